/**
 * `npm run bench [-- --quick] [--count N] [--reps R]`: bursts drained side by side.
 * fauxqs runs in its own process; each competitor runs in its own process with the same
 * pollers, the same injected SQS round trip and the same storage latency. Each measurement is
 * repeated and competitors alternate order, so machine noise does not favour one; medians are quoted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMPETITORS, type Competitor } from './competitors.ts';
import { median } from './harness.ts';
import { measure, preload, startSqsServer, type Run, type SqsServer } from './orchestrate.ts';
import { chart, table, type Summary } from './report.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    count: { type: 'string' },
    reps: { type: 'string', default: '3' },
    pollers: { type: 'string', default: '16' },
    rtt: { type: 'string', default: '15' },
    storage: { type: 'string', default: '5' },
  },
});
const count = Number(values.count ?? (values.quick ? 10_000 : 50_000));
const reps = Number(values.reps);
const pollers = Number(values.pollers);
const rttMs = Number(values.rtt);
const storageMs = Number(values.storage);
const scalingCount = values.quick ? 5_000 : 10_000;
const memoryCounts = values.quick ? [10_000, 50_000] : [10_000, 100_000];
const out = new URL('./results/', import.meta.url).pathname;

let seed = 1;
const log = (message: string) => process.stderr.write(`${message}\n`);

async function repeated(server: SqsServer, label: string, n: number, competitor: Competitor, options: { pollers: number; rttMs: number; storageMs: number; processes?: number }, runs: Run[]) {
  const burst = await preload(server, n, seed++);
  const run = await measure(server, burst, { competitor, ...options });
  if (run.competitor !== 'limit' && run.written !== burst.messages.filter((m) => m.visitId).length) {
    throw new Error(`${label}: wrote ${run.written} of ${burst.messages.filter((m) => m.visitId).length} valid visits`);
  }
  runs.push(run);
  log(`  ${label}: ${Math.round(run.throughput)} msg/s, p99 ${Math.round(run.p99Ms)} ms, ${run.callsPerMessage.toFixed(3)} calls/msg, RSS ${run.peakRssMb} MB`);
}

function summarise(label: string, runs: readonly Run[]): Summary {
  return {
    label,
    runs,
    throughput: median(runs.map((r) => r.throughput)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    callsPerMessage: median(runs.map((r) => r.callsPerMessage)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
  };
}

const server = await startSqsServer();
try {
  const started = Date.now();
  const main = new Map<string, Run[]>(COMPETITORS.map((c) => [c, []]));
  const bare = new Map<string, Run[]>([['processor', []], ['limit', []]]);
  log(`burst of ${count}, ${pollers} pollers, ${rttMs} ms per SQS call, ${storageMs} ms per write, ${reps} runs each`);
  for (let rep = 0; rep < reps; rep++) {
    const order = [...COMPETITORS.slice(rep % COMPETITORS.length), ...COMPETITORS.slice(0, rep % COMPETITORS.length)];
    for (const competitor of order) await repeated(server, competitor, count, competitor, { pollers, rttMs, storageMs }, main.get(competitor)!);
    for (const competitor of rep % 2 ? (['limit', 'processor'] as const) : (['processor', 'limit'] as const)) {
      await repeated(server, `${competitor}, no injected latency`, count, competitor, { pollers, rttMs: 0, storageMs: 0 }, bare.get(competitor)!);
    }
  }
  const scaling = new Map<number, Run[]>([1, 4, 16, 64].map((p) => [p, []]));
  const processes = new Map<number, Run[]>([[1, []], [3, []]]);
  for (let rep = 0; rep < reps; rep++) {
    for (const p of rep % 2 ? [64, 16, 4, 1] : [1, 4, 16, 64]) {
      await repeated(server, `processor, ${p} pollers`, scalingCount, 'processor', { pollers: p, rttMs, storageMs }, scaling.get(p)!);
    }
    for (const n of rep % 2 ? [3, 1] : [1, 3]) {
      await repeated(server, `processor, ${n} process(es)`, count, 'processor', { pollers, rttMs, storageMs, processes: n }, processes.get(n)!);
    }
  }
  const memory = new Map<number, Run[]>(memoryCounts.map((n) => [n, []]));
  for (const n of memoryCounts) await repeated(server, `processor, memory, ${n} burst`, n, 'processor', { pollers, rttMs, storageMs }, memory.get(n)!);

  const rows: Summary[] = [
    ...COMPETITORS.map((c) => summarise(`${c} (${pollers} pollers)`, main.get(c)!)),
    ...[...bare].map(([c, runs]) => summarise(`${c}, no injected latency`, runs)),
    ...[...scaling].map(([p, runs]) => summarise(`processor, ${p} pollers (${scalingCount})`, runs)),
    ...[...processes].map(([n, runs]) => summarise(`processor × ${n} process(es)`, runs)),
    ...[...memory].map(([n, runs]) => summarise(`processor memory, ${n} burst`, runs)),
  ];
  const get = (label: string) => rows.find((r) => r.label.startsWith(label))!;
  const ratio = (a: number, b: number) => a / b;
  const targets = [
    ['processor / sqs-consumer at 16 pollers', ratio(get('processor (').throughput, get('sqs-consumer (').throughput), '>= 2'],
    ['processor / limit at the same pollers', ratio(get('processor (').throughput, get('limit (').throughput), '>= 0.9'],
    ['processor / limit, no injected latency', ratio(get('processor, no').throughput, get('limit, no').throughput), '>= 0.8'],
    [`peak RSS MB, ${memoryCounts[1]} burst`, get(`processor memory, ${memoryCounts[1]}`).peakRssMb, '<= 200'],
    [`RSS(${memoryCounts[1]}) / RSS(${memoryCounts[0]})`, ratio(get(`processor memory, ${memoryCounts[1]}`).peakRssMb, get(`processor memory, ${memoryCounts[0]}`).peakRssMb), '<= 1.3'],
    ['3 processes / 1 process', ratio(get('processor × 3').throughput, get('processor × 1').throughput), '>= 2.5'],
  ] as const;
  const text = [
    table(rows),
    '',
    ...targets.map(([name, value, target]) => `${name}: ${value.toFixed(2)} (target ${target})`),
    '',
    `took ${Math.round((Date.now() - started) / 1000)} s on ${(await import('node:os')).cpus().length} cores`,
  ].join('\n');
  console.log(text);
  mkdirSync(out, { recursive: true });
  const settings = { count, reps, pollers, rttMs, storageMs, scalingCount, memoryCounts, date: new Date().toISOString() };
  writeFileSync(`${out}bench.json`, `${JSON.stringify({ settings, rows, targets: targets.map(([name, value, target]) => ({ name, value, target })) }, null, 2)}\n`);
  writeFileSync(
    `${out}bench.svg`,
    chart(
      COMPETITORS.map((c) => [c, get(`${c} (`).throughput]),
      [...scaling].map(([p]) => [`${p} pollers`, get(`processor, ${p} pollers`).throughput]),
      `burst ${count} (scaling ${scalingCount}), ${rttMs} ms per SQS call, ${storageMs} ms per write, medians of ${reps}`,
    ),
  );
  writeFileSync(`${out}bench.txt`, `${text}\n`);
  log(`wrote ${out}bench.json, bench.svg, bench.txt`);
} finally {
  server.stop();
}
