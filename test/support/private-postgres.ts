/**
 * A private PostgreSQL server for tests that stop, kill or freeze the server: `initdb` in a temp
 * directory, the `postgres` binary of the Debian install started on a free loopback port. The
 * shared server on 5432 is never touched.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root the server runs as the
 * `postgres` system user. Every server process (the postmaster and each backend, which are their
 * own process groups) is found through /proc, so `freeze()` and `kill()` reach all of them.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './services.ts';

/** A PostgreSQL server started by a test. */
export interface PrivatePostgres {
  /** Connection settings for `pg` (trust auth, database `postgres`). */
  readonly settings: { host: string; port: number; user: string; database: string };
  /** Starts (or restarts) the server on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** A fast shutdown (`pg_ctl stop -m fast`): open connections are told and closed; resolves once it exited. */
  stop(): Promise<void>;
  /** SIGKILL to the postmaster and every backend at once (a crash); resolves once they are gone. */
  kill(): Promise<void>;
  /** SIGSTOP to every server process: sockets stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT to every frozen process. */
  thaw(): void;
  /** The server log so far (to explain a failure). */
  log(): string;
  /** Stops the server (thawing it first) and deletes its directory. */
  destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `bin` directory of the newest PostgreSQL under /usr/lib/postgresql. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server under ${root}: apt-get install -y postgresql`);
  return join(root, versions[0] as string, 'bin');
}

/** The uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Pids of the direct children of `pid` (from /proc/<pid>/stat: field 4 is the parent pid). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * Creates a cluster with `initdb` and starts it on a free loopback port.
 *
 * @param serverOptions - extra `-c name=value` settings for the server
 */
export async function startPrivatePostgres(serverOptions: Record<string, string> = {}): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const user = serverUser();
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), `sessionkit-pg-${port}-`));
  const data = join(directory, 'data');
  const logFile = join(directory, 'server.log');
  if (user !== undefined) chownSync(directory, user.uid, user.gid);
  const initdb = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...user },
  );
  if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr}`);
  const settings = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
  let server: ChildProcess | undefined;
  let frozen: number[] = [];

  const accepting = (): boolean =>
    spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1'], { stdio: 'ignore' })
      .status === 0;
  const serverPids = (): number[] => {
    const pid = server?.pid;
    return pid !== undefined && alive(pid) ? [pid, ...childrenOf(pid)] : [];
  };
  const waitForExit = async (what: string): Promise<void> => {
    const exiting = server;
    const deadline = Date.now() + 30_000;
    while (exiting !== undefined && exiting.exitCode === null && exiting.signalCode === null) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not exit after ${what}:\n${handle.log()}`);
      await sleep(20);
    }
    server = undefined;
  };

  const handle: PrivatePostgres = {
    settings,
    async start() {
      if (server !== undefined) throw new Error('the private PostgreSQL is already running');
      const log = openSync(logFile, 'a');
      const options = {
        listen_addresses: '127.0.0.1',
        unix_socket_directories: directory,
        max_connections: '60',
        shared_buffers: '16MB',
        ...serverOptions,
      };
      const child = spawn(
        join(bin, 'postgres'),
        [
          '-D',
          data,
          '-p',
          String(port),
          ...Object.entries(options).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
        ],
        { stdio: ['ignore', log, log], detached: true, ...user },
      );
      closeSync(log);
      server = child;
      const deadline = Date.now() + 30_000;
      while (!accepting()) {
        if (child.exitCode !== null || Date.now() > deadline) {
          server = undefined;
          throw new Error(`PostgreSQL did not start on port ${port}:\n${handle.log()}`);
        }
        await sleep(50);
      }
    },
    async stop() {
      const pid = server?.pid;
      if (pid === undefined) return;
      handle.thaw();
      signal(pid, 'SIGINT'); // fast shutdown
      await waitForExit('a fast shutdown');
    },
    async kill() {
      const pids = serverPids();
      if (pids.length === 0) return;
      for (const pid of pids) signal(pid, 'SIGKILL');
      frozen = [];
      await waitForExit('SIGKILL');
      const deadline = Date.now() + 10_000;
      while (pids.some(alive)) {
        if (Date.now() > deadline) throw new Error('PostgreSQL backends survived SIGKILL');
        await sleep(20);
      }
    },
    freeze() {
      const pid = server?.pid;
      if (pid === undefined) throw new Error('the private PostgreSQL is not running');
      signal(pid, 'SIGSTOP'); // first, so it forks no new backend meanwhile
      frozen = [pid, ...childrenOf(pid)];
      for (const child of frozen.slice(1)) signal(child, 'SIGSTOP');
    },
    thaw() {
      for (const pid of frozen.slice(1)) signal(pid, 'SIGCONT');
      if (frozen[0] !== undefined) signal(frozen[0], 'SIGCONT');
      frozen = [];
    },
    log() {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '';
    },
    async destroy() {
      try {
        await handle.stop();
      } finally {
        await handle.kill();
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
  await handle.start();
  return handle;
}
