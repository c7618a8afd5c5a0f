/** Just enough of picomatch 4's types for the guard bench (the package ships none). */
declare module 'picomatch' {
  type Matcher = (input: string) => boolean;
  function picomatch(pattern: string, options?: Record<string, unknown>): Matcher;
  export default picomatch;
}
