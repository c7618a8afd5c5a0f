// How the suites time blocks and summarise paired ratios: a variant's block is timed right next to a block of its
// reference, each round gives one ratio, and a figure is the median of the rounds with the middle
// half (25th to 75th percentile) as its spread. An A/A control (the reference against a second
// copy of itself) shows how far two identical blocks drift apart on this machine. A target is met
// only when the whole middle half clears it.

/** The `fraction` quantile of `values`, interpolated between neighbours. */
export function quantile(values, fraction) {
  const sorted = values.toSorted((a, b) => a - b);
  const position = (sorted.length - 1) * fraction;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** The median of `values`. */
export const median = (values) => quantile(values, 0.5);

const round3 = (value) => Number(value.toFixed(3));

/** Median and middle half of per-round ratios, rounded for reports. */
export function summarise(ratios) {
  return {
    median: round3(median(ratios)),
    middleHalf: [round3(quantile(ratios, 0.25)), round3(quantile(ratios, 0.75))],
  };
}

/**
 * A target's verdict from per-round ratios: `at most` (a cost ratio, lower is better) or `at
 * least` (a speed ratio). Met only when the whole middle half clears the target; `gap` is how far
 * the median is from it (positive: short of it).
 */
export function verdictOf(ratios, target, direction) {
  const { median: middle, middleHalf } = summarise(ratios);
  const met = direction === 'at most' ? middleHalf[1] <= target : middleHalf[0] >= target;
  const gap = direction === 'at most' ? middle - target : target - middle;
  return { target: `${direction} ${target}`, median: middle, middleHalf, met, gap: round3(gap) };
}

/**
 * Rounds of paired blocks. `runBlock(name)` runs one block of a variant and resolves its µs per
 * operation. In every round each variant other than `reference` runs right next to a block of the
 * reference, the reference first in even rounds and second in odd ones. The first `warmupRounds`
 * are not recorded. Resolves every block's µs per operation and each variant's per-round ratio
 * to its neighbouring reference block.
 */
export async function pairedRounds(names, reference, rounds, runBlock, warmupRounds = 1) {
  const micros = Object.fromEntries(names.map((name) => [name, []]));
  const ratios = Object.fromEntries(names.filter((name) => name !== reference).map((name) => [name, []]));
  for (let round = -warmupRounds; round < rounds; round++) {
    for (const name of Object.keys(ratios)) {
      const referenceFirst = round % 2 === 0;
      const first = await runBlock(referenceFirst ? reference : name);
      const second = await runBlock(referenceFirst ? name : reference);
      if (round < 0) continue;
      const [referenceMicros, variantMicros] = referenceFirst ? [first, second] : [second, first];
      micros[reference].push(referenceMicros);
      micros[name].push(variantMicros);
      ratios[name].push(variantMicros / referenceMicros);
    }
  }
  return { micros, ratios };
}

/**
 * Runs one block: `inFlight` requests at a time from `browsers` (bench/support/traffic.mjs), each
 * `op(cookieHeader)` resolving the `Set-Cookie` lines the browser then keeps, until
 * `blockMilliseconds` have passed. Resolves µs per request.
 */
export async function timedBlock(op, browsers, { inFlight, blockMilliseconds }) {
  let completed = 0;
  const startedAt = performance.now();
  const deadline = startedAt + blockMilliseconds;
  const worker = async () => {
    while (performance.now() < deadline) {
      const user = browsers.next();
      browsers.receive(user, await op(browsers.cookieOf(user)));
      completed++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return ((performance.now() - startedAt) * 1000) / completed;
}
