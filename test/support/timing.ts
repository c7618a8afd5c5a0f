/**
 * A coarse timing comparison for constant-time checks: `rounds` paired measurements of the two
 * cases, back to back and in alternating order (so a burst of load from other processes falls on
 * both sides of a pair), after one warm-up each; the median of the per-pair ratios. Only gross
 * differences show at a bound such as [0.5, 2]; the code-path tests are the real proof.
 */
export async function medianTimeRatio(
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
  { rounds, batch }: { rounds: number; batch: number },
): Promise<number> {
  const time = async (run: () => Promise<unknown>): Promise<number> => {
    const start = performance.now();
    for (let index = 0; index < batch; index++) await run();
    return performance.now() - start;
  };
  await time(first);
  await time(second); // warm-up
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      const firstTime = await time(first);
      ratios.push(firstTime / (await time(second)));
    } else {
      const secondTime = await time(second);
      ratios.push((await time(first)) / secondTime);
    }
  }
  ratios.sort((a, b) => a - b);
  return ratios[Math.floor(ratios.length / 2)] as number;
}
