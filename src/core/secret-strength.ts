/**
 * How strong a secret is, as two numbers:
 *
 * - its **capacity**: what its length and alphabet can hold if every character were random
 *   (4 bits per hex digit, 6 per base64 / base64url character, log2(95) per other printable
 *   ASCII character, 8 per byte);
 * - its **estimate**: the cheapest way to spell it out of parts an attacker guesses first, each
 *   priced at what guessing it costs: runs of consecutive characters (`abcd`, `9876`), keyboard
 *   lines (`qwerty`, `1qaz`), blocks repeated from earlier in the secret, common words (priced by
 *   frequency rank), spaces and dashes between words, and plain lower-case text. Every other
 *   character costs its capacity. The cheapest spelling is found by dynamic programming; patterns
 *   are looked for in the first {@link analysedLength} characters, the rest counts at capacity.
 *
 * Why our own estimator rather than `@zxcvbn-ts/core` (measured 2026-12, zxcvbn-ts 4.2.0):
 * zxcvbn is built for passwords, not 256-bit keys. With its common dictionaries and keyboard
 * graphs it adds 461 KB minified (237 KB gzip) to a bundle (33 KB without them, which then
 * finds no words or keyboard patterns), takes 200-500 ms per secret, and rates
 * `correct horse battery staple is my favourite secret ever` at 139.7 bits, next to 142.8 bits
 * for 43 random base64url characters: no threshold separates the two. This file and its word
 * list add 17.6 KB minified (8.9 KB gzip, 13 KB of it the word list) to the main entry, and
 * estimate a secret in 0.02-0.07 ms.
 *
 * @module
 */
import { commonWords } from './secret-words.ts';

/** The kind of predictable part that explains most of a secret, when one does. */
export type PredictablePattern = 'sequence' | 'keyboard' | 'repeat' | 'words';

/** The result of {@link estimateSecretStrength}. */
export interface SecretStrength {
  /** Bits the secret's length and alphabet could hold if every character were random. */
  readonly capacityBits: number;
  /** Bits left once predictable parts are priced at what guessing them costs. */
  readonly estimatedBits: number;
  /** The kind of predictable part that saved the most bits, when predictable parts saved any. */
  readonly pattern: PredictablePattern | undefined;
}

/** Only this many leading characters (or bytes) are searched for patterns. */
export const analysedLength = 256;

const minimumPatternLength = 3;
const separators = ' -_.:';
const separatorBits = Math.log2(separators.length);
const lowerCaseLetterBits = Math.log2(26);
const printableBits = Math.log2(95);
const nonAsciiBits = 8;

/** Keyboard lines (rows and columns; QWERTY and AZERTY), matched forwards and backwards. */
const keyboardLines = [
  '`1234567890-=',
  '~!@#$%^&*()_+',
  'qwertyuiop[]\\',
  'QWERTYUIOP{}|',
  "asdfghjkl;'",
  'ASDFGHJKL:"',
  'zxcvbnm,./',
  'ZXCVBNM<>?',
  'azertyuiop',
  'qsdfghjklm',
  'wxcvbn',
  '1qaz',
  '2wsx',
  '3edc',
  '4rfv',
  '5tgb',
  '6yhn',
  '7ujm',
  '8ik,',
  '9ol.',
  '0p;/',
  '!QAZ',
  '@WSX',
  '#EDC',
  '$RFV',
  '%TGB',
  '^YHN',
  '&UJM',
  '*IK<',
  '(OL>',
  ')P:?',
];
const keyboardText = keyboardLines.flatMap((line) => [line, [...line].reverse().join('')]).join('\n');
const keyboardStartBits = Math.log2(keyboardText.length);

let wordRanks: Map<string, number> | undefined;
let longestWord = 0;

/** Word -> rank (1 = most frequent), built on first use. */
function ranks(): Map<string, number> {
  if (wordRanks === undefined) {
    wordRanks = new Map();
    for (const word of commonWords.split(' ')) {
      wordRanks.set(word, wordRanks.size + 1);
      longestWord = Math.max(longestWord, word.length);
    }
  }
  return wordRanks;
}

type Alphabet = 'hex' | 'base64' | 'printable';

/** The smallest common alphabet the secret's characters fit (separators aside for hex). */
function alphabetOf(text: string): Alphabet {
  const body = text.replace(/[-_.: ]/g, '');
  if (body.length > 0 && (/^[0-9a-f]+$/.test(body) || /^[0-9A-F]+$/.test(body))) return 'hex';
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) || /^[A-Za-z0-9_-]+={0,2}$/.test(text)) return 'base64';
  return 'printable';
}

/** What one character costs if it were random, in this alphabet. */
function characterBits(alphabet: Alphabet, character: string): number {
  if (alphabet === 'hex') return separators.includes(character) ? separatorBits : 4;
  if (alphabet === 'base64') return character === '=' ? 0 : 6; // padding follows from the length
  return (character.codePointAt(0) as number) < 0x80 ? printableBits : nonAsciiBits;
}

interface Step {
  readonly end: number;
  readonly bits: number;
  readonly pattern: PredictablePattern | undefined;
}

/**
 * The patterns that start at `start`, with their cost. `startBits` is what the first character
 * costs if random (a run costs its first character, its length and its direction).
 */
function patternsAt(
  units: readonly string[],
  codes: readonly number[],
  start: number,
  startBits: number,
  text: boolean,
): Step[] {
  const steps: Step[] = [];
  const length = units.length;
  // Runs of consecutive code points, up or down.
  for (const direction of [1, -1]) {
    let end = start + 1;
    while (end < length && codes[end] === (codes[end - 1] as number) + direction) end++;
    if (end - start >= minimumPatternLength) {
      steps.push({ end, bits: startBits + Math.log2(end - start) + 1, pattern: 'sequence' });
    }
  }
  // A block seen earlier (the copy may overlap itself: `abababab`).
  let longest = 0;
  for (let from = start - 1; from >= 0 && longest < length - start; from--) {
    let same = 0;
    while (start + same < length && units[from + same] === units[start + same]) same++;
    longest = Math.max(longest, same);
  }
  if (longest >= minimumPatternLength) {
    steps.push({ end: start + longest, bits: Math.log2(start) + Math.log2(longest), pattern: 'repeat' });
  }
  if (!text) return steps;
  // Keyboard lines.
  for (let end = start + minimumPatternLength; end <= length; end++) {
    const part = units.slice(start, end).join('');
    if (!keyboardText.includes(part)) break;
    steps.push({ end, bits: keyboardStartBits + Math.log2(end - start), pattern: 'keyboard' });
  }
  // Common words: lower case, Capitalised or UPPER CASE.
  const table = ranks();
  for (let end = start + minimumPatternLength; end <= Math.min(length, start + longestWord); end++) {
    const part = units.slice(start, end).join('');
    if (!/^[A-Za-z]+$/.test(part)) break;
    const lower = part.toLowerCase();
    const rank = table.get(lower);
    if (rank === undefined) continue;
    const capitalised = lower.charAt(0).toUpperCase() + lower.slice(1);
    const caseBits = part === lower ? 0 : part === capitalised || part === part.toUpperCase() ? 1 : undefined;
    if (caseBits !== undefined) steps.push({ end, bits: Math.log2(rank + 1) + caseBits, pattern: 'words' });
  }
  return steps;
}

/**
 * Estimates how predictable a secret is. Strings are judged as text; bytes as bytes, unless
 * every byte is printable ASCII (then they are most likely an encoded string, and judged as one).
 * Never returns more `estimatedBits` than `capacityBits`.
 *
 * @example
 * ```ts
 * estimateSecretStrength('0123456789abcdef'.repeat(4)); // { capacityBits: 256, estimatedBits: ~26, pattern: 'repeat' }
 * ```
 */
export function estimateSecretStrength(secret: string | Uint8Array): SecretStrength {
  const asText =
    typeof secret === 'string'
      ? secret
      : secret.every((byte) => byte >= 0x20 && byte < 0x7f)
        ? String.fromCharCode(...secret)
        : undefined;
  const units =
    asText === undefined ? Array.from(secret as Uint8Array, (byte) => String.fromCharCode(byte)) : [...asText];
  const codes = units.map((unit) => unit.codePointAt(0) as number);
  const alphabet = asText === undefined ? undefined : alphabetOf(asText);
  const costOf = (unit: string): number => (alphabet === undefined ? 8 : characterBits(alphabet, unit));
  let capacityBits = 0;
  for (const unit of units) capacityBits += costOf(unit);

  const length = Math.min(units.length, analysedLength);
  const analysed = units.slice(0, length);
  const text = asText !== undefined;
  const prose = alphabet === 'printable';
  // best[i]: the cheapest spelling of the first i characters, and how it got there.
  const best: { bits: number; from: number; pattern: PredictablePattern | undefined }[] = [
    { bits: 0, from: 0, pattern: undefined },
  ];
  for (let index = 1; index <= length; index++)
    best.push({ bits: Number.POSITIVE_INFINITY, from: 0, pattern: undefined });
  const offer = (start: number, step: Step): void => {
    const bits = (best[start] as { bits: number }).bits + step.bits;
    const target = best[step.end] as { bits: number; from: number; pattern: PredictablePattern | undefined };
    if (bits < target.bits) {
      target.bits = bits;
      target.from = start;
      target.pattern = step.pattern;
    }
  };
  for (let start = 0; start < length; start++) {
    const unit = units[start] as string;
    offer(start, { end: start + 1, bits: costOf(unit), pattern: undefined });
    if (prose && separators.includes(unit)) offer(start, { end: start + 1, bits: separatorBits, pattern: 'words' });
    if (prose && /[a-z]/.test(unit)) {
      let end = start;
      while (end < length && /[a-z]/.test(units[end] as string)) end++;
      for (let stop = start + minimumPatternLength; stop <= end; stop++) {
        offer(start, {
          end: stop,
          bits: (stop - start) * lowerCaseLetterBits + Math.log2(stop - start),
          pattern: 'words',
        });
      }
    }
    for (const step of patternsAt(analysed, codes, start, costOf(unit), text)) offer(start, step);
  }

  // Which kind of pattern saved the most bits along the cheapest spelling.
  const saved = new Map<PredictablePattern, number>();
  for (let end = length; end > 0; ) {
    const step = best[end] as { bits: number; from: number; pattern: PredictablePattern | undefined };
    if (step.pattern !== undefined) {
      let plain = 0;
      for (let index = step.from; index < end; index++) plain += costOf(units[index] as string);
      const spent = step.bits - (best[step.from] as { bits: number }).bits;
      saved.set(step.pattern, (saved.get(step.pattern) ?? 0) + plain - spent);
    }
    end = step.from;
  }
  let pattern: PredictablePattern | undefined;
  let most = 0;
  for (const [kind, bits] of saved) {
    if (bits > most) {
      most = bits;
      pattern = kind;
    }
  }
  let rest = 0;
  for (let index = length; index < units.length; index++) rest += costOf(units[index] as string);
  const estimatedBits = Math.min(capacityBits, (best[length] as { bits: number }).bits + rest);
  return { capacityBits, estimatedBits, pattern };
}
