// Helpers shared by the benchmarks and the soak test (child processes' environment and free ports
// come from test/support, which Node loads by stripping types).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { seededRandom } from '../support/traffic.mjs';

/** Resident set size of a process, in MiB (from /proc/<pid>/status). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** A copy of `list` in an order drawn from `seed` (Fisher-Yates on a mulberry32 stream): repeatable. */
export function shuffled(list, seed) {
  const random = seededRandom(seed);
  const copy = [...list];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/**
 * Pins the main thread of process `pid` (its thread id is the pid) to CPU `cpu` with taskset, and
 * only that thread: the process's other threads (V8's garbage-collector helpers, libuv's pool)
 * started with it and keep running on any CPU. False when it cannot (one CPU, no taskset, or
 * BENCH_PIN=0).
 */
export function pinMainThread(pid, cpu) {
  if (process.env.BENCH_PIN === '0' || availableParallelism() < 2) return false;
  return spawnSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}
