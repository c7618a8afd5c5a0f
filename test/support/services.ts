/**
 * Real services for store tests: check that Redis / PostgreSQL answer on their usual ports and
 * start them with the project's exact commands when they do not; start throwaway redis-servers
 * (a single node for outage tests, a cluster with or without replicas) on free loopback ports.
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
  /** Kills the process with SIGKILL (a crash: nothing is saved, no goodbye to clients or replicas). */
  kill(): Promise<void>;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
}

/** `redis-cli -p <port> <args...>`'s output (empty when the server does not answer). */
export function redisCli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';
}

/** The value of one `field:value` line of `INFO` output. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
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
    async kill() {
      const pid = Number(infoField(redisCli(port, 'info', 'server'), 'process_id'));
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no redis-server answers on port ${port}`);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !redisAnswers(port), `redis-server on port ${port} to die`);
    },
    async destroy() {
      if (redisAnswers(port)) await handle.shutdown('nosave');
      rmSync(directory, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/** A Redis Cluster started by a test on loopback ports. */
export interface OwnCluster {
  /** Every node's port, masters first as created (replicas are assigned by `redis-cli --cluster create`). */
  readonly ports: readonly number[];
  /** The node servers, in the order of `ports`. */
  readonly nodes: readonly OwnRedis[];
  destroy(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface ClusterOptions {
  /** Masters (default 3). */
  masters?: number;
  /** Replicas per master (default 0). */
  replicasPerMaster?: number;
  /** `cluster-require-full-coverage` (default `yes`, Redis' default). */
  requireFullCoverage?: boolean;
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** For a replica: its master's id. */
  readonly masterId: string | undefined;
  /** Flags such as `fail`, `pfail`, `myself`. */
  readonly flags: readonly string[];
  /** Slot ranges served, for a master: `[first, last]` pairs. */
  readonly slots: readonly (readonly [number, number])[];
}

/** `CLUSTER NODES` as seen by the node on `port`. */
export function clusterNodes(port: number): ClusterNode[] {
  return redisCli(port, 'cluster', 'nodes')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flagText, masterId, , , , , ...slotTexts] = line.trim().split(' ');
      const flags = (flagText ?? '').split(',');
      return {
        id: id ?? '',
        port: Number(/:(\d+)@/.exec(address ?? '')?.[1]),
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: masterId === '-' ? undefined : masterId,
        flags,
        slots: slotTexts
          .filter((text) => /^\d/.test(text))
          .map((text) => {
            const [first, last = first] = text.split('-').map(Number);
            return [first as number, last as number] as const;
          }),
      } satisfies ClusterNode;
    });
}

/** True when every node in `ports` reports `cluster_state:ok`. */
export function clusterIsOk(ports: readonly number[]): boolean {
  return ports.every((port) => redisCli(port, 'cluster', 'info').includes('cluster_state:ok'));
}

/**
 * Starts cluster-enabled redis-servers (`cluster-node-timeout 2000`) and joins them into a
 * cluster; with replicas, waits until every replica is in sync with its master.
 */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<OwnCluster> {
  requireBinary('redis-cli', 'apt-get install -y redis-server');
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const nodes: OwnRedis[] = [];
  try {
    for (let index = 0; index < masters * (1 + replicasPerMaster); index++) {
      // nodes.conf is relative to the node's own --dir.
      const args = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
        '--cluster-require-full-coverage',
        options.requireFullCoverage === false ? 'no' : 'yes',
        // Replicas sync at once instead of after the default 5 s wait for more replicas.
        '--repl-diskless-sync-delay',
        '0',
      ];
      nodes.push(await startOwnRedis(args));
    }
    const ports = nodes.map((node) => node.port);
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      { stdio: 'ignore' },
    );
    await waitFor(() => clusterIsOk(ports), 'cluster_state:ok', 30_000);
    if (replicasPerMaster > 0) {
      await waitFor(
        () =>
          clusterNodes(ports[0] as number).filter((node) => node.role === 'replica').length ===
            masters * replicasPerMaster &&
          ports.every((port) => {
            const info = redisCli(port, 'info', 'replication');
            return infoField(info, 'role') === 'master' || infoField(info, 'master_link_status') === 'up';
          }),
        'replicas in sync with their masters',
        30_000,
      );
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.destroy()));
    throw error;
  }
  return {
    ports: nodes.map((node) => node.port),
    nodes,
    async destroy() {
      await Promise.all(nodes.map((node) => node.destroy()));
    },
  };
}
