// Helpers shared by the HTTP suite and the soak test: the same patterns as test/support/astro.ts
// (which Node cannot import directly: it uses TypeScript syntax that type stripping refuses).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The parent's environment without test-runner variables (Astro behaves differently under them). */
export function childEnv(extra = {}) {
  const env = { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', ...extra };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || key === 'NODE_ENV' || key === 'TEST') delete env[key];
  }
  return env;
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process, in MiB (from /proc/<pid>/status). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
