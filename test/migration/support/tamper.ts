/** Changes one character in the middle of a cookie value (always to a different base64url character). */
export function tamper(value: string): string {
  const at = Math.floor(value.length / 2);
  return `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
}
