/**
 * Real services for store tests: check that Redis / PostgreSQL answer on their usual ports and
 * start them with the project's exact commands when they do not; start throwaway redis-servers
 * (a single node for outage tests, a 3-master cluster) on free loopback ports.
 *
 * Nothing here mocks a store: a missing server binary fails the test with a message naming it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function which(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

function requireBinary(binary: string, install: string): void {
  if (!which(binary)) throw new Error(`${binary} is not installed: ${install}`);
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** True when a redis-server answers PING on `port`. */
export function redisAnswers(port: number): boolean {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === 'PONG';
}

/** Makes sure Redis answers on 127.0.0.1:6379, starting it with the project's command if needed. */
export async function ensureRedis(): Promise<{ host: string; port: number }> {
  requireBinary('redis-cli', 'apt-get install -y redis-server');
  if (!redisAnswers(6379)) {
    requireBinary('redis-server', 'apt-get install -y redis-server');
    mkdirSync('/var/lib/redis', { recursive: true });
    mkdirSync('/var/log/redis', { recursive: true });
    execFileSync('sh', [
      '-c',
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    ]);
    await waitFor(() => redisAnswers(6379), 'redis-server on port 6379');
  }
  return { host: '127.0.0.1', port: 6379 };
}

function postgresAnswers(): boolean {
  return spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' }).status === 0;
}

/** Connection settings of the test PostgreSQL (trust auth, database `test`). */
export interface PostgresSettings {
  host: string;
  port: number;
  user: string;
  database: string;
}

/** Makes sure PostgreSQL answers on 127.0.0.1:5432 with a `test` database, starting it if needed. */
export async function ensurePostgres(): Promise<PostgresSettings> {
  requireBinary('pg_isready', 'apt-get install -y postgresql');
  if (!postgresAnswers()) {
    requireBinary('pg_ctlcluster', 'apt-get install -y postgresql');
    execFileSync('sh', ['-c', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start']);
    await waitFor(postgresAnswers, 'PostgreSQL on port 5432', 30_000);
  }
  const settings = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
  const psql = (sql: string, database = 'postgres') =>
    spawnSync('psql', ['-h', settings.host, '-U', settings.user, '-d', database, '-tAc', sql], { encoding: 'utf8' });
  const exists = psql("SELECT 1 FROM pg_database WHERE datname = 'test'");
  if (exists.status !== 0) throw new Error(`cannot connect to PostgreSQL as "postgres": ${exists.stderr.trim()}`);
  if (exists.stdout.trim() !== '1') psql('CREATE DATABASE test');
  return settings;
}

/** A free TCP port on loopback (and port + 10000 free too, for cluster bus ports). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (port + 10_000 < 65_536) return port;
  }
}

/** A redis-server started by a test. */
export interface OwnRedis {
  readonly port: number;
  readonly directory: string;
  /** Starts (or restarts) the server with the same port and data directory. */
  start(): Promise<void>;
  /** `SHUTDOWN NOSAVE` (data lost) or `SHUTDOWN SAVE` (an RDB snapshot in the directory, reloaded by start()). */
  shutdown(mode: 'nosave' | 'save'): Promise<void>;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
}

/** Starts a private redis-server on a free loopback port, without persistence unless asked. */
export async function startOwnRedis(extraArgs: string[] = []): Promise<OwnRedis> {
  requireBinary('redis-server', 'apt-get install -y redis-server');
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), `sessionkit-redis-${port}-`));
  const handle: OwnRedis = {
    port,
    directory,
    async start() {
      execFileSync('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        directory,
        '--dbfilename',
        'dump.rdb',
        '--logfile',
        join(directory, 'redis.log'),
        '--daemonize',
        'yes',
        ...extraArgs,
      ]);
      await waitFor(() => redisAnswers(port), `redis-server on port ${port}`);
    },
    async shutdown(mode) {
      spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'shutdown', mode], { stdio: 'ignore' });
      await waitFor(() => !redisAnswers(port), `redis-server on port ${port} to stop`);
    },
    async destroy() {
      if (redisAnswers(port)) await handle.shutdown('nosave');
      rmSync(directory, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/** A 3-master Redis Cluster started by a test on loopback ports. */
export interface OwnCluster {
  readonly ports: readonly number[];
  destroy(): Promise<void>;
}

/** Starts three cluster-enabled redis-servers and joins them into a cluster (no replicas). */
export async function startRedisCluster(): Promise<OwnCluster> {
  requireBinary('redis-cli', 'apt-get install -y redis-server');
  const nodes: OwnRedis[] = [];
  try {
    for (let index = 0; index < 3; index++) {
      // nodes.conf is relative to the node's own --dir.
      const args = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
      ];
      nodes.push(await startOwnRedis(args));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    execFileSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: 'ignore',
    });
    await waitFor(
      () =>
        nodes.every((node) =>
          spawnSync('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes(
            'cluster_state:ok',
          ),
        ),
      'cluster_state:ok',
      30_000,
    );
  } catch (error) {
    await Promise.all(nodes.map((node) => node.destroy()));
    throw error;
  }
  return {
    ports: nodes.map((node) => node.port),
    async destroy() {
      await Promise.all(nodes.map((node) => node.destroy()));
    },
  };
}
