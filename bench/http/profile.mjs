// Summarises a V8 CPU profile (.cpuprofile, from `node --cpu-prof`) of an HTTP-suite server:
// where the busy time goes, by function (self and inclusive) and by origin (sessionkit, Astro,
// Node internals, ...).
//
//   BENCH_HTTP_CPU_PROF=cookie,bare BENCH_HTTP_VARIANTS=bare,cookie BENCH_HTTP_ROUNDS=1 \
//     npx node bench/http/http.bench.mjs
//   npx node bench/http/profile.mjs bench/.tmp/profiles/cookie/*.cpuprofile [--requests N] [--top 40]
//     [--focus handleRequest,load,commit]
//   npx node bench/http/profile.mjs cookie.cpuprofile --requests N --baseline bare.cpuprofile
//     --baseline-requests M       (self time per request by function name, this minus baseline)
//
// With --requests (requests the process served while profiled), times are also given per request.
// The http suite's JSON has them: initialWarmupRequests + samples[].warmupRequests + samples[].requests
// (+ 3 for the checks).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const files = args.filter((arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'));

/** Self time (µs) by function name, over the busy samples of a profile. */
function selfByName(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const result = new Map();
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') return;
    const name = frame.functionName || '(anonymous)';
    const delta = profile.timeDeltas[index + 1] ?? profile.timeDeltas[index] ?? 0;
    result.set(name, (result.get(name) ?? 0) + delta);
  });
  return result;
}
if (files.length === 0) {
  process.stderr.write('usage: node bench/http/profile.mjs <file.cpuprofile> [--requests N] [--top N] [--focus a,b]\n');
  process.exit(2);
}
const requests = Number(option('requests', 0));
const top = Number(option('top', 30));
const focus = (option('focus', '') ?? '').split(',').filter(Boolean);
const baseline = option('baseline');
const baselineRequests = Number(option('baseline-requests', 0));

/** Where a frame's code comes from. */
function originOf(url, name) {
  if (url === '') return name.startsWith('(') ? name : 'native/builtin';
  if (url.startsWith('node:')) return 'node internals';
  if (
    /\/node_modules\/astro\//.test(url) ||
    /\/chunks\/(?:server|node|_virtual_astro|compiler|render|astro)/.test(url)
  ) {
    return 'astro';
  }
  if (/\/dist\/server\/chunks\/|\/dist\/server\/virtual_astro_middleware/.test(url))
    return 'app bundle (sessionkit, pages)';
  if (url.includes('/node_modules/')) return url.replace(/^.*\/node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1');
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
}

if (baseline !== undefined) {
  if (!(requests > 0 && baselineRequests > 0)) throw new Error('--baseline needs --requests and --baseline-requests');
  const ours = selfByName(files[0]);
  const theirs = selfByName(baseline);
  const names = new Set([...ours.keys(), ...theirs.keys()]);
  const rows = [...names].map((name) => {
    const a = (ours.get(name) ?? 0) / requests;
    const b = (theirs.get(name) ?? 0) / baselineRequests;
    return { name, a, b, diff: a - b };
  });
  const sum = (map, count) => [...map.values()].reduce((total, value) => total + value, 0) / count;
  process.stdout.write(
    `busy per request: ${sum(ours, requests).toFixed(1)} µs vs baseline ${sum(theirs, baselineRequests).toFixed(1)} µs\n` +
      `self time by function name, µs per request (this, baseline, difference), largest differences:\n`,
  );
  for (const row of rows.sort((x, y) => y.diff - x.diff).slice(0, top)) {
    process.stdout.write(
      `  ${row.a.toFixed(1).padStart(7)} ${row.b.toFixed(1).padStart(7)} ${row.diff >= 0 ? '+' : ''}${row.diff.toFixed(1).padStart(6)}  ${row.name}\n`,
    );
  }
  process.exit(0);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map();
  const inclusive = new Map();
  const origins = new Map();
  let total = 0;
  let idle = 0;
  const sampleTime = new Map();
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index + 1] ?? profile.timeDeltas[index] ?? 0;
    sampleTime.set(id, (sampleTime.get(id) ?? 0) + delta);
  });
  for (const [id, micros] of sampleTime) {
    const node = byId.get(id);
    const frame = node.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') {
      idle += micros;
      continue;
    }
    total += micros;
    const key = `${frame.functionName || '(anonymous)'} ${originOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + micros);
    const origin = originOf(frame.url, frame.functionName);
    origins.set(origin, (origins.get(origin) ?? 0) + micros);
    const seen = new Set();
    for (let current = id; current !== undefined; current = parent.get(current)) {
      const callFrame = byId.get(current).callFrame;
      const name = callFrame.functionName || '(anonymous)';
      const label = `${name} ${originOf(callFrame.url, name)}:${callFrame.lineNumber + 1}`;
      if (seen.has(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + micros);
    }
  }
  const format = (micros) => {
    const share = `${((micros / total) * 100).toFixed(1).padStart(5)} %`;
    return requests > 0 ? `${share} ${(micros / requests).toFixed(1).padStart(7)} µs/req` : share;
  };
  const print = (title, map, count) => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
      process.stdout.write(`  ${format(micros)}  ${key}\n`);
    }
  };
  process.stdout.write(
    `${file}\nbusy ${(total / 1e6).toFixed(2)} s, idle/program ${(idle / 1e6).toFixed(2)} s` +
      (requests > 0 ? `, ${requests} requests: ${(total / requests).toFixed(1)} µs busy per request` : '') +
      '\n',
  );
  print('by origin (self time)', origins, 20);
  print(`top ${top} functions by self time`, self, top);
  if (focus.length > 0) {
    const picked = new Map([...inclusive].filter(([key]) => focus.some((name) => key.startsWith(`${name} `))));
    print('focus (inclusive time)', picked, 100);
  } else print(`top ${top} functions by inclusive time`, inclusive, top);
}
