/**
 * The compiled rule matcher: a segment trie built once from every rule pattern.
 *
 * A lookup walks the path's segments through the trie, following at each node the literal child
 * for the segment (one `Map` lookup) and the single-segment wildcard child, and collecting the
 * rules whose pattern ends at a visited node. Each trie node has a fixed depth, so each node is
 * visited at most once: the cost is bounded by (path segments) × (trie nodes alive at a depth),
 * and the walk stops as soon as no node is alive, so it never exceeds the deepest pattern.
 * For rule sets without middle wildcards at most one node is alive: the cost does not depend on
 * the number of rules at all. No regular expression is involved, so there is nothing to backtrack.
 *
 * @module
 */
import type { ParsedPattern } from './rules.ts';

interface TrieNode {
  literals: Map<string, TrieNode> | undefined;
  /** Child for a single-segment wildcard (`*` in the middle, `[param]`). */
  wildcard: TrieNode | undefined;
  /** Rules whose pattern ends exactly here. */
  exact: number[] | undefined;
  /** Rules whose pattern is this node followed by a trailing `*` (one or more segments). */
  plus: number[] | undefined;
  /** Rules whose pattern is this node followed by `**` (zero or more segments). */
  star: number[] | undefined;
}

function createNode(): TrieNode {
  return { literals: undefined, wildcard: undefined, exact: undefined, plus: undefined, star: undefined };
}

/**
 * A compiled set of patterns. `collect` pushes the indices of the matching patterns into `out`
 * (in no particular order, each at most once) and returns `out`.
 * @internal
 */
export interface PatternMatcher {
  collect(segments: readonly string[], out: number[]): number[];
  /** Number of trie nodes (for tests and the bench). */
  readonly size: number;
}

function push(list: number[] | undefined, value: number): number[] {
  if (list === undefined) return [value];
  list.push(value);
  return list;
}

function emit(list: readonly number[], out: number[]): void {
  for (let index = 0; index < list.length; index++) out.push(list[index] as number);
}

/**
 * Builds the trie for `patterns` (the index in the array is the value `collect` reports).
 * @internal
 */
export function compileMatcher(patterns: readonly ParsedPattern[]): PatternMatcher {
  const root = createNode();
  let size = 1;
  patterns.forEach((pattern, index) => {
    let node = root;
    for (const token of pattern.tokens) {
      if (token === null) {
        if (node.wildcard === undefined) {
          node.wildcard = createNode();
          size++;
        }
        node = node.wildcard;
        continue;
      }
      node.literals ??= new Map();
      let child = node.literals.get(token);
      if (child === undefined) {
        child = createNode();
        node.literals.set(token, child);
        size++;
      }
      node = child;
    }
    if (pattern.tail === 'exact') node.exact = push(node.exact, index);
    else if (pattern.tail === 'plus') node.plus = push(node.plus, index);
    else node.star = push(node.star, index);
  });

  // Two frontier buffers with explicit counts, reused across calls (`collect` is synchronous, so
  // calls cannot interleave). Never resized: a depth can hold at most every node once.
  let current: TrieNode[] = new Array<TrieNode>(size).fill(root);
  let next: TrieNode[] = new Array<TrieNode>(size).fill(root);

  function collect(segments: readonly string[], out: number[]): number[] {
    current[0] = root;
    let alive = 1;
    const total = segments.length;
    for (let depth = 0; ; depth++) {
      const remaining = total - depth;
      for (let index = 0; index < alive; index++) {
        const node = current[index] as TrieNode;
        if (node.star !== undefined) emit(node.star, out);
        if (remaining > 0) {
          if (node.plus !== undefined) emit(node.plus, out);
        } else if (node.exact !== undefined) emit(node.exact, out);
      }
      if (remaining === 0) break;
      const segment = segments[depth] as string;
      let nextAlive = 0;
      for (let index = 0; index < alive; index++) {
        const node = current[index] as TrieNode;
        if (node.literals !== undefined) {
          const literal = node.literals.get(segment);
          if (literal !== undefined) next[nextAlive++] = literal;
        }
        if (node.wildcard !== undefined) next[nextAlive++] = node.wildcard;
      }
      if (nextAlive === 0) break;
      const swap = current;
      current = next;
      next = swap;
      alive = nextAlive;
    }
    return out;
  }

  return { collect, size };
}

/**
 * The obviously-correct matcher the trie is tested against: one pattern, one path, no cleverness.
 * @internal
 */
export function patternMatchesSlow(pattern: ParsedPattern, segments: readonly string[]): boolean {
  const count = pattern.tokens.length;
  if (pattern.tail === 'exact' && segments.length !== count) return false;
  if (pattern.tail === 'plus' && segments.length < count + 1) return false;
  if (pattern.tail === 'star' && segments.length < count) return false;
  for (let index = 0; index < count; index++) {
    const token = pattern.tokens[index];
    if (token !== null && token !== segments[index]) return false;
  }
  return true;
}
