/**
 * `npm run bench [-- --help]` for its options:
 * bursts drained side by side. fauxqs runs in its own process; each competitor runs in its own
 * process with the same pollers, the same injected SQS round trip and the same storage (by
 * default the real MySQL echo adapter and its log line on every write). Each measurement is
 * repeated and competitors alternate order, so machine noise does not favour one; medians are
 * quoted. Every run reports its CPU time per message and the endpoint's, which on a shared
 * machine is steadier than throughput.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { readOptions } from '../../scripts/support/cli.ts';
import { COMPETITORS, type Competitor } from './competitors.ts';
import { median, STORAGE_VARIANTS, type StorageVariant } from './harness.ts';
import { measure, preload, startSqsServer, type MeasureOptions, type Run, type SqsServer } from './orchestrate.ts';
import { chart, table, type Summary } from './report.ts';

const SECTIONS = ['latency', 'bare', 'scaling', 'processes', 'memory'] as const;
type Section = (typeof SECTIONS)[number];
/** Competitors measured without injected latency: where CPU per message decides throughput. */
const BARE: readonly Competitor[] = ['processor', 'sqs-consumer', 'loop', 'limit'];

const USAGE = `usage: npm run bench [-- [--quick] [--count N] [--reps R] [--pollers P] [--rtt MS] [--storage MS] [--storage-variant ${STORAGE_VARIANTS.join('|')}]
                       [--only ${SECTIONS.join(',')}] [--competitors ${COMPETITORS.join(',')}] [--profile DIR]]`;

const cli = readOptions('bench', USAGE, {
  quick: { type: 'boolean', default: false },
  count: { type: 'string' },
  reps: { type: 'string', default: '3' },
  pollers: { type: 'string', default: '16' },
  rtt: { type: 'string', default: '15' },
  storage: { type: 'string', default: '5' },
  'storage-variant': { type: 'string', default: 'echo' },
  only: { type: 'string', default: SECTIONS.join(',') },
  competitors: { type: 'string' },
  profile: { type: 'string' },
});
const { values, fail } = cli;
const count = cli.wholeNumber('count', values.count ?? (values.quick ? '10000' : '50000'), 1);
const reps = cli.wholeNumber('reps', values.reps, 1);
const pollers = cli.wholeNumber('pollers', values.pollers, 1, 256);
const rttMs = cli.wholeNumber('rtt', values.rtt, 0, 60_000);
const storageMs = cli.wholeNumber('storage', values.storage, 0, 60_000);
const storageVariant = values['storage-variant'] as StorageVariant;
if (!STORAGE_VARIANTS.includes(storageVariant)) fail(`--storage-variant must be one of ${STORAGE_VARIANTS.join(', ')}, not "${storageVariant}"`);
const sections = new Set(values.only.split(',').map((s) => s.trim()));
for (const s of sections) if (!SECTIONS.includes(s as Section)) fail(`--only takes a list of ${SECTIONS.join(', ')}; "${s}" is none of them`);
const picked = values.competitors?.split(',').map((c) => c.trim());
for (const c of picked ?? [])
  if (!COMPETITORS.includes(c as Competitor)) fail(`--competitors takes a list of ${COMPETITORS.join(', ')}; "${c}" is none of them`);
const keep = (list: readonly Competitor[]) => list.filter((c) => !picked || picked.includes(c));
const scalingCount = values.quick ? 5_000 : 10_000;
const memoryCounts = values.quick ? [10_000, 50_000] : [10_000, 100_000];
// One CPU profile per competitor process (`node --cpu-prof`), named after the competitor.
const nodeOptions = (competitor: Competitor) =>
  values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`, `--cpu-prof-name=${competitor}-\${pid}.cpuprofile`] : [];
const out = new URL('./results/', import.meta.url).pathname;
// A worker writes its drain window next to its profile before node writes the profile, so the folder must exist.
if (values.profile) mkdirSync(values.profile, { recursive: true });

let seed = 1;
const log = (message: string) => process.stderr.write(`${message}\n`);
const loads: number[] = [];

async function repeated(server: SqsServer, label: string, n: number, options: Omit<MeasureOptions, 'storageVariant' | 'nodeOptions'>, runs: Run[]) {
  const burst = await preload(server, n, seed++);
  loads.push(loadavg()[0]);
  const run = await measure(server, burst, { ...options, storageVariant, nodeOptions: nodeOptions(options.competitor) });
  const valid = burst.messages.filter((m) => m.visitId).length;
  if (run.competitor !== 'limit' && run.written !== valid) throw new Error(`${label}: wrote ${run.written} of ${valid} valid visits`);
  if (run.duplicates > 0) throw new Error(`${label}: ${run.duplicates} visit(s) written twice`);
  runs.push(run);
  log(
    `  ${label}: ${Math.round(run.throughput)} msg/s, CPU ${Math.round(run.cpuUsPerMessage)} µs/msg (endpoint ${Math.round(run.endpointCpuUsPerMessage)}), ` +
      `p99 ${Math.round(run.p99Ms)} ms, ${run.callsPerMessage.toFixed(3)} calls/msg, receive ${run.receiveMs.toFixed(1)} ms, loop busy ${Math.round(run.loopBusy * 100)} %, RSS ${run.peakRssMb} MB, load ${loadavg()[0].toFixed(1)}`,
  );
}

function summarise(label: string, runs: readonly Run[]): Summary {
  return {
    label,
    runs,
    throughput: median(runs.map((r) => r.throughput)),
    cpuUsPerMessage: median(runs.map((r) => r.cpuUsPerMessage)),
    endpointCpuUsPerMessage: median(runs.map((r) => r.endpointCpuUsPerMessage)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    callsPerMessage: median(runs.map((r) => r.callsPerMessage)),
    receiveMs: median(runs.map((r) => r.receiveMs)),
    loopBusy: median(runs.map((r) => r.loopBusy)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
  };
}

/** `list` rotated by `rep`, so no competitor always runs first. */
const rotate = <T>(list: readonly T[], rep: number) => [...list.slice(rep % list.length), ...list.slice(0, rep % list.length)];

const server = await startSqsServer();
try {
  const started = Date.now();
  const withLatency = { pollers, rttMs, storageMs };
  const noLatency = { pollers, rttMs: 0, storageMs: 0 };
  const main = new Map<Competitor, Run[]>(keep(COMPETITORS).map((c) => [c, []]));
  const bare = new Map<Competitor, Run[]>(keep(BARE).map((c) => [c, []]));
  log(`burst of ${count}, ${pollers} pollers, ${rttMs} ms per SQS call, ${storageMs} ms per write, ${storageVariant} storage, ${reps} runs each`);
  for (let rep = 0; rep < reps; rep++) {
    if (sections.has('latency'))
      for (const c of rotate([...main.keys()], rep)) await repeated(server, c, count, { competitor: c, ...withLatency }, main.get(c)!);
    if (sections.has('bare')) {
      for (const c of rotate([...bare.keys()], rep)) await repeated(server, `${c}, no injected latency`, count, { competitor: c, ...noLatency }, bare.get(c)!);
    }
  }
  const scaling = new Map<number, Run[]>([1, 4, 16, 64].map((p) => [p, []]));
  const processes = new Map<number, Run[]>([
    [1, []],
    [3, []],
  ]);
  for (let rep = 0; rep < reps; rep++) {
    if (sections.has('scaling')) {
      for (const p of rep % 2 ? [64, 16, 4, 1] : [1, 4, 16, 64]) {
        await repeated(server, `processor, ${p} pollers`, scalingCount, { competitor: 'processor', ...withLatency, pollers: p }, scaling.get(p)!);
      }
    }
    if (sections.has('processes')) {
      for (const n of rep % 2 ? [3, 1] : [1, 3]) {
        await repeated(server, `processor, ${n} process(es)`, count, { competitor: 'processor', ...withLatency, processes: n }, processes.get(n)!);
      }
    }
  }
  const memory = new Map<number, Run[]>(memoryCounts.map((n) => [n, []]));
  if (sections.has('memory')) {
    for (const n of memoryCounts) await repeated(server, `processor, memory, ${n} burst`, n, { competitor: 'processor', ...withLatency }, memory.get(n)!);
  }

  const nonEmpty = <K>(entries: Map<K, Run[]>) => [...entries].filter(([, runs]) => runs.length > 0);
  const rows: Summary[] = [
    ...nonEmpty(main).map(([c, runs]) => summarise(`${c} (${pollers} pollers)`, runs)),
    ...nonEmpty(bare).map(([c, runs]) => summarise(`${c}, no injected latency`, runs)),
    ...nonEmpty(scaling).map(([p, runs]) => summarise(`processor, ${p} pollers (${scalingCount})`, runs)),
    ...nonEmpty(processes).map(([n, runs]) => summarise(`processor × ${n} process(es)`, runs)),
    ...nonEmpty(memory).map(([n, runs]) => summarise(`processor memory, ${n} burst`, runs)),
  ];
  const get = (label: string) => rows.find((r) => r.label.startsWith(label));
  const ratio = (a: Summary | undefined, b: Summary | undefined, key: 'throughput' | 'cpuUsPerMessage' | 'peakRssMb') => (a && b ? a[key] / b[key] : undefined);
  const big = get(`processor memory, ${memoryCounts[1]}`);
  const targets: Array<[string, number | undefined, string]> = [
    ['processor / sqs-consumer msg/s at 16 pollers', ratio(get('processor ('), get('sqs-consumer ('), 'throughput'), '>= 2'],
    ['processor / limit msg/s at the same pollers', ratio(get('processor ('), get('limit ('), 'throughput'), '>= 0.9'],
    ['processor / sqs-consumer CPU per msg at 16 pollers', ratio(get('processor ('), get('sqs-consumer ('), 'cpuUsPerMessage'), '<= 1.0'],
    ['processor / sqs-consumer CPU per msg, no injected latency', ratio(get('processor, no'), get('sqs-consumer, no'), 'cpuUsPerMessage'), '<= 1.0'],
    ['processor / bare loop CPU per msg, no injected latency', ratio(get('processor, no'), get('loop, no'), 'cpuUsPerMessage'), '<= 1.0 (stretch)'],
    ['processor / sqs-consumer msg/s, no injected latency', ratio(get('processor, no'), get('sqs-consumer, no'), 'throughput'), '>= 1'],
    ['processor / limit msg/s, no injected latency', ratio(get('processor, no'), get('limit, no'), 'throughput'), '>= 0.8'],
    [`peak RSS MB, ${memoryCounts[1]} burst`, big?.peakRssMb, '<= 200'],
    [`RSS(${memoryCounts[1]}) / RSS(${memoryCounts[0]})`, ratio(big, get(`processor memory, ${memoryCounts[0]}`), 'peakRssMb'), '<= 1.3'],
    ['3 processes / 1 process msg/s', ratio(get('processor × 3'), get('processor × 1'), 'throughput'), '>= 2.5'],
  ];
  const text = [
    `burst ${count}, ${pollers} pollers, ${rttMs} ms per SQS call, ${storageMs} ms per write, ${storageVariant} storage, medians of ${reps}`,
    '',
    table(rows),
    '',
    ...targets.filter(([, value]) => value !== undefined).map(([name, value, target]) => `${name}: ${value!.toFixed(2)} (target ${target})`),
    '',
    `took ${Math.round((Date.now() - started) / 1000)} s on ${cpus().length} cores; 1-min load average before runs: median ${median(loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`,
  ].join('\n');
  console.log(text);
  // Only a run of every section replaces the published results.
  if (sections.size === SECTIONS.length && !picked && !values.profile) {
    mkdirSync(out, { recursive: true });
    const settings = { count, reps, pollers, rttMs, storageMs, storageVariant, scalingCount, memoryCounts, date: new Date().toISOString() };
    writeFileSync(
      `${out}bench.json`,
      `${JSON.stringify({ settings, rows, targets: targets.map(([name, value, target]) => ({ name, value, target })) }, null, 2)}\n`,
    );
    writeFileSync(
      `${out}bench.svg`,
      chart(
        [...main.keys()].map((c) => [c, get(`${c} (`)!.throughput]),
        [...scaling.keys()].map((p) => [`${p} pollers`, get(`processor, ${p} pollers`)!.throughput]),
        `burst ${count} (scaling ${scalingCount}), ${rttMs} ms per SQS call, ${storageMs} ms per write, medians of ${reps}`,
      ),
    );
    writeFileSync(`${out}bench.txt`, `${text}\n`);
    log(`wrote ${out}bench.json, bench.svg, bench.txt`);
  }
} finally {
  server.stop();
}
