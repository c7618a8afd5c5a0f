/**
 * What README.md and docs/ say besides code: every shell block is run or says why not; every
 * `npx sessionkit` command exists; README's links work on the npm page (absolute, to files the
 * published package ships, at this version); the shipped docs' relative links reach shipped
 * files; package.json names no invented repository; the Redis configuration shown is one a
 * redis-server accepts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.ts';
import { freePort } from '../support/services.ts';
import { allBlocks, documents, repoRoot, shellLanguages, where } from './blocks.ts';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
  repository?: { url?: string };
};

/** The files `npm pack` would publish. */
function packedFiles(): Set<string> {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return new Set((JSON.parse(output) as { files: { path: string }[] }[])[0]?.files.map((file) => file.path));
}
const shipped = packedFiles();

/** The targets of markdown links and images in `text` (not inside code spans or blocks). */
function linkTargets(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
}

describe('shell blocks', () => {
  const shell = allBlocks.filter((block) => shellLanguages.has(block.language) || block.language === 'conf');

  it('each is run by a test or says why it is not', () => {
    const silent = shell.filter((block) => block.treatment.kind !== 'run' && block.treatment.kind !== 'not run');
    expect(silent.map(where)).toEqual([]);
    expect(shell.filter((block) => block.treatment.kind === 'run').length).toBeGreaterThan(1);
  });

  it('every `npx sessionkit <command>` in the docs is a command of the sessionkit CLI', () => {
    const commands = new Set<string>();
    for (const doc of documents) {
      for (const match of readFileSync(join(repoRoot, doc), 'utf8').matchAll(/npx sessionkit ([a-z-]+)/g)) {
        commands.add(match[1] as string);
      }
    }
    expect([...commands]).toEqual(['secret']);
    for (const command of commands)
      expect(
        runCli(
          [command],
          () => {},
          () => {},
        ),
        command,
      ).toBe(0);
  });

  it("README's contributor commands and command table name this repository's npm scripts", () => {
    const section =
      /## Working on sessionkit\n([\s\S]*?)\n## /.exec(readFileSync(join(repoRoot, 'README.md'), 'utf8'))?.[1] ?? '';
    const code = [...section.matchAll(/```[a-z]*\n([\s\S]*?)```|`([^`\n]+)`/g)]
      .map((match) => match[1] ?? match[2])
      .join('\n');
    const scripts = [...code.matchAll(/\bnpm (?:run )?([a-z][\w:-]*)/g)]
      .map((match) => match[1] as string)
      .filter((name) => name !== 'install');
    expect(new Set(scripts)).toEqual(new Set(['start', 'test', 'bench', 'soak', 'screenshots']));
    for (const script of scripts) expect(manifest.scripts[script], script).toBeDefined();
  });

  it('the Redis Cluster node configuration is one redis-server runs with', async () => {
    const block = shell.find((entry) => entry.treatment.kind === 'run' && entry.treatment.app === 'redis-server');
    expect(block).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'sk-redis-conf-'));
    const port = await freePort();
    // The page's file as it is, then what a test must change: a free port, files in a temp folder.
    writeFileSync(
      join(dir, 'redis.conf'),
      `${block?.content}\nport ${port}\nbind 127.0.0.1\ndir ${dir}\ncluster-config-file ${join(dir, 'nodes.conf')}\nsave ""\n`,
    );
    const server = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const ready = new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (chunk) => {
        log += chunk;
        if (log.includes('Ready to accept connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
    });
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    try {
      await ready;
      await client.connect();
      const settings = Object.fromEntries(
        await Promise.all(
          ['cluster-enabled', 'cluster-node-timeout', 'cluster-require-full-coverage', 'appendonly'].map(
            async (name) => {
              const [, value] = (await client.config('GET', name)) as [string, string];
              return [name, value];
            },
          ),
        ),
      );
      expect(settings).toEqual({
        'cluster-enabled': 'yes',
        'cluster-node-timeout': '2000',
        'cluster-require-full-coverage': 'no',
        appendonly: 'yes',
      });
    } finally {
      client.disconnect();
      server.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('links', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

  it('README links are absolute (npm cannot follow a relative link) or anchors on the page', () => {
    const relative = linkTargets(readme).filter((target) => !/^https:\/\//.test(target) && !target.startsWith('#'));
    expect(relative).toEqual([]);
  });

  it("README's links into the package are this version's files, and the package ships them", () => {
    const base = `https://unpkg.com/sessionkit@${manifest.version}/`;
    const intoPackage = linkTargets(readme).filter((target) => target.startsWith('https://unpkg.com/'));
    expect(intoPackage.length).toBeGreaterThan(10);
    for (const target of intoPackage) {
      expect(target.startsWith(base), target).toBe(true);
      expect(shipped.has(target.slice(base.length).split('#')[0] as string), target).toBe(true);
    }
  });

  it("the shipped docs' relative links reach files the package ships", () => {
    const broken: string[] = [];
    for (const file of [...shipped].filter((path) => path.endsWith('.md'))) {
      for (const target of linkTargets(readFileSync(join(repoRoot, file), 'utf8'))) {
        if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
        const path = normalize(join(dirname(file), target.split('#')[0] as string));
        if (!shipped.has(path)) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('package.json names no invented repository', () => {
    expect(JSON.stringify(manifest)).not.toContain('example.invalid');
    expect(manifest.repository?.url ?? '').not.toMatch(/example|placeholder/);
  });
});
