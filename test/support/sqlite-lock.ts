/**
 * Another process holding the write lock of a SQLite file (`BEGIN IMMEDIATE`, nothing written),
 * as a second app instance or a backup job would. Plain TypeScript that Node can load by
 * stripping types, so the benchmarks import it too.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** A held write lock. */
export interface HeldLock {
  /** Lets go of the lock (the other process rolls back and exits); resolves once it has. */
  release(): Promise<void>;
}

/**
 * Starts a process that takes the write lock of `file`; resolves once it holds it. With
 * `releaseAfterMs`, the process lets go by itself then (even if this one is blocked meanwhile).
 */
export async function holdWriteLock(file: string, releaseAfterMs?: number): Promise<HeldLock> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const { DatabaseSync } = require('node:sqlite');
       const db = new DatabaseSync(${JSON.stringify(file)});
       db.exec('BEGIN IMMEDIATE');
       process.stdout.write('locked\\n');
       const release = () => { db.exec('ROLLBACK'); db.close(); process.exit(0); };
       process.stdin.once('data', release);
       ${releaseAfterMs === undefined ? '' : `setTimeout(release, ${releaseAfterMs});`}`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const [chunk] = await Promise.race([once(child.stdout, 'data'), exited]);
  if (String(chunk) !== 'locked\n') throw new Error(`the lock holder did not take the lock of ${file}`);
  return {
    async release() {
      if (child.exitCode === null) child.stdin.write('go\n');
      await exited;
    },
  };
}
