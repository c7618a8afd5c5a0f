import { describe, expect, it } from 'vitest';
import { displayValue, shapeOf } from './toolbar-values.ts';

describe('dev toolbar values', () => {
  it('describes a hidden value in words, never in a form that reads like a value', () => {
    expect(shapeOf('ada@example.com')).toBe('string, 15 characters');
    expect(shapeOf('x')).toBe('string, 1 character');
    expect(shapeOf([1, 2, 3])).toBe('array, 3 items');
    expect(shapeOf({ a: 1 })).toBe('object, 1 key');
    expect(shapeOf(null)).toBe('null');
    expect(shapeOf(42)).toBe('number');
    const hidden = displayValue({ hidden: shapeOf('ada@example.com') });
    expect(hidden).toEqual({ text: 'hidden: string, 15 characters', hidden: true });
    expect(hidden.text).not.toMatch(/^"/);
  });

  it('shows a visible value as JSON, so a string is quoted and a number is not', () => {
    expect(displayValue({ value: 'admin' })).toEqual({ text: '"admin"', hidden: false });
    expect(displayValue({ value: ['a', 'b'] })).toEqual({ text: '["a","b"]', hidden: false });
    expect(displayValue({ value: 3 })).toEqual({ text: '3', hidden: false });
  });
});
