/**
 * Per-decision cost of route protection at 10, 100 and 1000 rules:
 * - sessionkit: `guard.decide()` (normalise the path, walk the trie, decide), compiled once;
 * - astro-sessionkit 0.1.33: what its guard middleware does per request, `protect.find(rule =>
 *   matchesPattern(rule.pattern, pathname))` (glob compiled to a cached RegExp, tried rule by rule);
 * - picomatch 4: every rule compiled once, then tried rule by rule, as apps hand-rolling this do.
 *
 * Two paths per rule count: one no rule matches (most requests: every rule is tried) and one only
 * the last rule matches. Run through `bench/guard/run.mjs`.
 */
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import picomatch from 'picomatch';
import { matchesPattern } from '../../node_modules/astro-sessionkit/dist/core/matcher.js';
import { createGuard, type Guard, type GuardRule } from '../../src/guard/index.ts';

const SIZES = [10, 100, 1000] as const;

/** A realistic mix: sections, one-level wildcards, middle wildcards, exact pages. */
function patternFor(index: number): string {
  switch (index % 4) {
    case 0:
      return `/section-${index}/**`;
    case 1:
      return `/section-${index}/*`;
    case 2:
      return `/org-${index}/*/settings`;
    default:
      return `/pages/page-${index}`;
  }
}

function pathFor(index: number): string {
  switch (index % 4) {
    case 0:
      return `/section-${index}/reports/2026`;
    case 1:
      return `/section-${index}/item-42`;
    case 2:
      return `/org-${index}/acme/settings`;
    default:
      return `/pages/page-${index}`;
  }
}

interface Setup {
  readonly miss: string;
  readonly hit: string;
  readonly ours: Guard;
  readonly theirs: readonly { pattern: string }[];
  readonly pico: readonly ((path: string) => boolean)[];
}

const session = { userId: 'u_1', role: 'admin', roles: ['staff'], permissions: ['reports:read'] };

function setup(size: number): Setup {
  const rules: GuardRule[] = Array.from({ length: size }, (_, index) => ({
    pattern: patternFor(index),
    role: 'admin',
  }));
  const ours = createGuard({ rules });
  const theirs = rules.map((rule) => ({ pattern: rule.pattern }));
  const pico = rules.map((rule) => picomatch(rule.pattern));
  const miss = '/blog/2026/11/route-protection-without-regexes';
  const hit = pathFor(size - 1);
  // The three must agree before their speed means anything.
  for (const [path, expected] of [
    [miss, -1],
    [hit, size - 1],
  ] as const) {
    const match = ours.match(path);
    const oursIndex = match.ok && match.required[0] ? ours.rules.indexOf(match.required[0]) : -1;
    const theirsIndex = theirs.findIndex((rule) => matchesPattern(rule.pattern, path));
    const picoIndex = pico.findIndex((matcher) => matcher(path));
    if (oursIndex !== expected || theirsIndex !== expected || picoIndex !== expected) {
      throw new Error(`disagreement on ${path}: ours ${oursIndex}, theirs ${theirsIndex}, picomatch ${picoIndex}`);
    }
  }
  return { miss, hit, ours, theirs, pico };
}

const setups = new Map<number, Setup>(SIZES.map((size) => [size, setup(size)]));

/** The argument state mitata passes to generator benches. */
interface SizeState {
  get(name: 'rules'): number;
}

for (const scenario of ['miss', 'hit'] as const) {
  group(`path ${scenario === 'miss' ? 'matching no rule' : 'matching only the last rule'}`, () => {
    summary(() => {
      bench(`sessionkit decide ($rules rules, ${scenario})`, function* (state: SizeState) {
        const { ours, [scenario]: path } = setups.get(state.get('rules'))!;
        yield () => do_not_optimize(ours.decide({ session, path }));
      }).args('rules', [...SIZES]);

      bench(`astro-sessionkit find ($rules rules, ${scenario})`, function* (state: SizeState) {
        const { theirs, [scenario]: path } = setups.get(state.get('rules'))!;
        yield () => {
          // Its middleware strips one trailing slash, then tries the rules in order.
          const pathname = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
          do_not_optimize(theirs.find((rule) => matchesPattern(rule.pattern, pathname)));
        };
      }).args('rules', [...SIZES]);

      bench(`picomatch find ($rules rules, ${scenario})`, function* (state: SizeState) {
        const { pico, [scenario]: path } = setups.get(state.get('rules'))!;
        yield () => do_not_optimize(pico.find((matcher) => matcher(path)));
      }).args('rules', [...SIZES]);
    });
  });
}

// Adversarial input: 10k-character paths, against 1000 rules and against one rule with middle
// wildcards (astro-sessionkit turns each `*` into `[^/]+(?:/[^/]+)*`, which backtracks).
const adversarial = `/org-2/${'a/'.repeat(4990)}x`;
const backtracking = `/x${'/y'.repeat(5000)}`;
const wildcardRule = '/x/*/y/*/z';
const oursWildcard = createGuard({ rules: [{ pattern: wildcardRule, role: 'admin' }] });
const picoWildcard = picomatch(wildcardRule);
const wildcardMatch = oursWildcard.match(backtracking);
if (!wildcardMatch.ok || wildcardMatch.required.length > 0 || matchesPattern(wildcardRule, backtracking)) {
  throw new Error('the 10k path must not match the wildcard rule');
}
group('10k-character paths', () => {
  const { ours, theirs, pico } = setups.get(1000)!;
  bench('sessionkit decide (10k path, 1000 rules)', () => do_not_optimize(ours.decide({ session, path: adversarial })));
  bench('astro-sessionkit find (10k path, 1000 rules)', () =>
    do_not_optimize(theirs.find((rule) => matchesPattern(rule.pattern, adversarial))),
  );
  bench('picomatch find (10k path, 1000 rules)', () => do_not_optimize(pico.find((matcher) => matcher(adversarial))));
  bench('sessionkit decide (10k path, /x/*/y/*/z)', () =>
    do_not_optimize(oursWildcard.decide({ session, path: backtracking })),
  );
  bench('astro-sessionkit find (10k path, /x/*/y/*/z)', () =>
    do_not_optimize(matchesPattern(wildcardRule, backtracking)),
  );
  bench('picomatch find (10k path, /x/*/y/*/z)', () => do_not_optimize(picoWildcard(backtracking)));
});

const results = await run();

// A compact table of the median time per decision, for bench/guard/README.md (the median, not the
// average: it is what a shared machine disturbs least).
const medians = new Map<string, number>();
for (const trial of results.benchmarks) {
  for (const entry of trial.runs) {
    if (entry.stats) medians.set(entry.name, entry.stats.p50);
  }
}
const format = (ns: number | undefined) => {
  if (ns === undefined) return 'n/a';
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
};
const ratioOf = (ours: number | undefined, theirs: number | undefined) =>
  ours && theirs ? `${(theirs / ours).toFixed(theirs / ours < 10 ? 1 : 0)}x` : 'n/a';
const lines = ['| path | rules | sessionkit | astro-sessionkit 0.1.33 | picomatch 4 | astro-sessionkit / sessionkit |'];
lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const scenario of ['miss', 'hit'] as const) {
  for (const size of SIZES) {
    const ours = medians.get(`sessionkit decide (${size} rules, ${scenario})`);
    const theirs = medians.get(`astro-sessionkit find (${size} rules, ${scenario})`);
    const pico = medians.get(`picomatch find (${size} rules, ${scenario})`);
    const ratio = ratioOf(ours, theirs);
    lines.push(`| ${scenario} | ${size} | ${format(ours)} | ${format(theirs)} | ${format(pico)} | ${ratio} |`);
  }
}
for (const [label, suffix] of [
  ['10k chars', '10k path, 1000 rules'],
  ['10k chars', '10k path, /x/*/y/*/z'],
] as const) {
  const ours = medians.get(`sessionkit decide (${suffix})`);
  const theirs = medians.get(`astro-sessionkit find (${suffix})`);
  const pico = medians.get(`picomatch find (${suffix})`);
  const rules = suffix.endsWith('1000 rules') ? '1000' : `1 (\`${wildcardRule}\`)`;
  const ratio = ratioOf(ours, theirs);
  lines.push(`| ${label} | ${rules} | ${format(ours)} | ${format(theirs)} | ${format(pico)} | ${ratio} |`);
}
process.stdout.write(`\n${lines.join('\n')}\n`);
