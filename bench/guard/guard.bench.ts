/**
 * Per-decision cost of route protection at 1, 10, 100 and 1000 rules, on the built library (dist/):
 * - sessionkit: the decision a framework pipeline runs per request (`decideImmediately()`:
 *   normalise the path, walk the trie, check the session; no promise when no hook waits), and the
 *   public `guard.decide()`, which always answers with a promise;
 * - astro-sessionkit 0.1.33: what its guard middleware does per request, `protect.find(rule =>
 *   matchesPattern(rule.pattern, pathname))` (glob compiled to a cached RegExp, tried rule by rule);
 * - picomatch 4: every rule compiled once, then tried rule by rule, as apps hand-rolling this do.
 *
 * Two paths per rule count: one no rule matches (most requests: every rule is tried) and one only
 * the last rule matches. With `GUARD_BASELINE=<another build's dist directory>`, the same decisions
 * are also timed on that build, in the same process (before/after a change). Run through
 * `bench/guard/run.mjs`, which builds dist/ first when it is stale.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import picomatch from 'picomatch';
import { createGuard, type Guard, type GuardRule, type GuardSession } from '../../dist/guard.js';
import { decideImmediately } from '../../dist/internal/guard.js';
import { matchesPattern } from '../../node_modules/astro-sessionkit/dist/core/matcher.js';

const SIZES = [1, 10, 100, 1000] as const;

/** The part of a guard this bench uses, in this build and in a baseline build. */
interface TimedGuard {
  readonly rules: readonly GuardRule[];
  match(path: string): { ok: boolean; required?: readonly GuardRule[] };
  decide(input: { session: object; path: string }): unknown;
}
type CreateGuard = (options: { rules: GuardRule[] }) => TimedGuard;

const baselineDirectory = process.env.GUARD_BASELINE;
const baseline: CreateGuard | undefined = baselineDirectory
  ? ((await import(pathToFileURL(join(baselineDirectory, 'guard.js')).href)) as { createGuard: CreateGuard })
      .createGuard
  : undefined;

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
  readonly before: TimedGuard | undefined;
  readonly theirs: readonly { pattern: string }[];
  readonly pico: readonly ((path: string) => boolean)[];
}

const session: GuardSession = { userId: 'u_1', role: 'admin', roles: ['staff'], permissions: ['reports:read'] };

function firstRequired(guard: TimedGuard, path: string): number {
  const match = guard.match(path);
  return match.ok && match.required?.[0] ? guard.rules.indexOf(match.required[0]) : -1;
}

async function setup(size: number): Promise<Setup> {
  const rules: GuardRule[] = Array.from({ length: size }, (_, index) => ({
    pattern: patternFor(index),
    role: 'admin',
  }));
  const ours = createGuard({ rules });
  const before = baseline?.({ rules });
  const theirs = rules.map((rule) => ({ pattern: rule.pattern }));
  const pico = rules.map((rule) => picomatch(rule.pattern));
  const miss = '/blog/2026/11/route-protection-without-regexes';
  const hit = pathFor(size - 1);
  // They must agree before their speed means anything.
  for (const [path, expected] of [
    [miss, -1],
    [hit, size - 1],
  ] as const) {
    const found = {
      ours: firstRequired(ours as TimedGuard, path),
      before: before === undefined ? expected : firstRequired(before, path),
      theirs: theirs.findIndex((rule) => matchesPattern(rule.pattern, path)),
      picomatch: pico.findIndex((matcher) => matcher(path)),
    };
    if (Object.values(found).some((index) => index !== expected)) {
      throw new Error(`disagreement on ${path}: ${JSON.stringify(found)}`);
    }
    const decided = JSON.stringify(await ours.decide({ session, path }));
    if (JSON.stringify(decideImmediately(ours, { session, path })) !== decided) {
      throw new Error(`decideImmediately() and decide() disagree on ${path}`);
    }
    if (before !== undefined && JSON.stringify(await before.decide({ session, path })) !== decided) {
      throw new Error(`the baseline build decides ${path} differently`);
    }
  }
  return { miss, hit, ours, before, theirs, pico };
}

const setups = new Map<number, Setup>();
for (const size of SIZES) setups.set(size, await setup(size));

/** The argument state mitata passes to generator benches. */
interface SizeState {
  get(name: 'rules'): number;
}

for (const scenario of ['miss', 'hit'] as const) {
  group(`path ${scenario === 'miss' ? 'matching no rule' : 'matching only the last rule'}`, () => {
    summary(() => {
      bench(`sessionkit decide ($rules rules, ${scenario})`, function* (state: SizeState) {
        const { ours, [scenario]: path } = setups.get(state.get('rules'))!;
        yield () => do_not_optimize(decideImmediately(ours, { session, path }));
      }).args('rules', [...SIZES]);

      bench(`sessionkit decide() promise ($rules rules, ${scenario})`, function* (state: SizeState) {
        const { ours, [scenario]: path } = setups.get(state.get('rules'))!;
        yield () => ours.decide({ session, path });
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
  bench('sessionkit decide (10k path, 1000 rules)', () =>
    do_not_optimize(decideImmediately(ours, { session, path: adversarial })),
  );
  bench('astro-sessionkit find (10k path, 1000 rules)', () =>
    do_not_optimize(theirs.find((rule) => matchesPattern(rule.pattern, adversarial))),
  );
  bench('picomatch find (10k path, 1000 rules)', () => do_not_optimize(pico.find((matcher) => matcher(adversarial))));
  bench('sessionkit decide (10k path, /x/*/y/*/z)', () =>
    do_not_optimize(decideImmediately(oursWildcard, { session, path: backtracking })),
  );
  bench('astro-sessionkit find (10k path, /x/*/y/*/z)', () =>
    do_not_optimize(matchesPattern(wildcardRule, backtracking)),
  );
  bench('picomatch find (10k path, /x/*/y/*/z)', () => do_not_optimize(picoWildcard(backtracking)));
});

const results = await run();

// Compact tables of the median time per decision, for bench/guard/README.md (the median, not the
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

// This table's layout is what bench/run.mjs parses into bench/results/guard.json.
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

// The public decide() (a promise, awaited by mitata) against the synchronous entry.
const second = ['| decision path | rules | sync entry | decide() (promise, awaited) |', '| --- | ---: | ---: | ---: |'];
for (const scenario of ['miss', 'hit'] as const) {
  for (const size of SIZES) {
    const sync = medians.get(`sessionkit decide (${size} rules, ${scenario})`);
    const promised = medians.get(`sessionkit decide() promise (${size} rules, ${scenario})`);
    second.push(`| ${scenario} | ${size} | ${format(sync)} | ${format(promised)} |`);
  }
}
process.stdout.write(`\n${second.join('\n')}\n`);
if (baseline !== undefined) process.stdout.write(`\n${compareWithBaseline().join('\n')}\n`);
// Last: bench/run.mjs reads every table row after this header into bench/results/guard.json.
process.stdout.write(`\n${lines.join('\n')}\n`);

/**
 * Before/after on a shared, busy machine: the baseline build and this one take turns in short
 * batches (the order alternating each round), so that both see the same machine; each round gives
 * one ratio per case, and the table shows the median ratio with the middle half of the rounds.
 */
function compareWithBaseline(): string[] {
  const ROUNDS = 41;
  const BATCH = 5000;
  const nsPerCall = (call: () => unknown): number => {
    const start = process.hrtime.bigint();
    for (let index = 0; index < BATCH; index++) do_not_optimize(call());
    return Number(process.hrtime.bigint() - start) / BATCH;
  };
  const cases = SIZES.flatMap((size) =>
    (['miss', 'hit'] as const).map((scenario) => {
      const { ours, before, [scenario]: path } = setups.get(size)!;
      return {
        label: `| ${scenario} | ${size} |`,
        before: () => before!.decide({ session, path }),
        sync: () => decideImmediately(ours, { session, path }),
        promised: () => ours.decide({ session, path }),
        times: { before: [] as number[], sync: [] as number[], promised: [] as number[] },
        ratios: { sync: [] as number[], promised: [] as number[] },
      };
    }),
  );
  for (let warm = 0; warm < 10; warm++) {
    for (const entry of cases) for (const call of [entry.before, entry.sync, entry.promised]) nsPerCall(call);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of cases) {
      const order =
        round % 2 === 0 ? (['before', 'sync', 'promised'] as const) : (['promised', 'sync', 'before'] as const);
      const measured: Record<string, number> = {};
      for (const name of order) measured[name] = nsPerCall(entry[name]);
      for (const name of order) entry.times[name].push(measured[name] as number);
      entry.ratios.sync.push((measured.sync as number) / (measured.before as number));
      entry.ratios.promised.push((measured.promised as number) / (measured.before as number));
    }
  }
  const quantile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  };
  const ratio = (values: number[]) =>
    `${quantile(values, 0.5).toFixed(2)} (${quantile(values, 0.25).toFixed(2)}–${quantile(values, 0.75).toFixed(2)})`;
  return [
    `Before/after, interleaved: ${ROUNDS} rounds of ${BATCH} calls per case; medians, ratios with the middle half of rounds.`,
    '',
    '| before/after | rules | baseline decide() | sync entry | sync entry / baseline | decide() (promise, not awaited) | decide() / baseline |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...cases.map(
      (entry) =>
        `${entry.label} ${format(quantile(entry.times.before, 0.5))} | ${format(quantile(entry.times.sync, 0.5))} | ${ratio(entry.ratios.sync)} | ${format(quantile(entry.times.promised, 0.5))} | ${ratio(entry.ratios.promised)} |`,
    ),
  ];
}
