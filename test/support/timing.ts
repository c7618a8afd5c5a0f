/**
 * A coarse timing comparison for constant-time checks: the median time of `rounds` runs of each
 * case, interleaved after one warm-up each, as a ratio. Only gross differences show at a bound
 * such as [0.5, 2]; the code-path tests are the real proof.
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
  const firstTimes: number[] = [];
  const secondTimes: number[] = [];
  for (let round = 0; round < rounds; round++) {
    firstTimes.push(await time(first));
    secondTimes.push(await time(second));
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return median(firstTimes) / median(secondTimes);
}
