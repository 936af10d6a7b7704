/**
 * `npm run bench:agent [-- --runs N --warm N --rate R --seconds S]`: the front door's figures.
 * 1. The agent's Lambda bundle against a minimal handler doing the same SendMessage with the same
 *    client, both bundled alike, on a real SQS endpoint in this process: time from a fresh
 *    process to its first answer (cold start), and CPU per warm invocation; medians, alternating.
 * 2. A real browser on `npm start`'s embedded default sending beacons at a steady rate: the time
 *    from each sendBeacon to the processor's write line holding its row, p50 and p99.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildAgent, LAMBDA_BUNDLE_OPTIONS } from '../../../scripts/build-agent.ts';
import { readOptions } from '../../../scripts/support/cli.ts';
import { percentile } from '../../../scripts/support/percentile.ts';
import { launchBrowser, npmStart, rowsWritten } from '../../browser/support.ts';
import { startTestEndpoint } from '../../support/sqs.ts';
import { median } from '../harness.ts';

const cli = readOptions('bench:agent', 'usage: npm run bench:agent -- [--runs N] [--warm N] [--rate R] [--seconds S]', {
  runs: { type: 'string', default: '11' },
  warm: { type: 'string', default: '2000' },
  rate: { type: 'string', default: '50' },
  seconds: { type: 'string', default: '20' },
});
const runs = cli.wholeNumber('runs', cli.values.runs, 1);
const warm = cli.wholeNumber('warm', cli.values.warm, 1);
const rate = cli.wholeNumber('rate', cli.values.rate, 1);
const seconds = cli.wholeNumber('seconds', cli.values.seconds, 1);

const CHILD = fileURLToPath(new URL('./invoke-bundle.ts', import.meta.url));
const MINIMAL = fileURLToPath(new URL('./minimal-handler.ts', import.meta.url));

interface ChildResult {
  readonly coldMs: number;
  readonly loadAndFirstMs: number;
  readonly warmCpuUs: number;
}

function runChild(bundle: string, warmCount: number, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, bundle, String(warmCount)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildResult) : reject(new Error(`the bundle child exited ${code}`))));
  });
}

async function lambdaFigures(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const sqs = await startTestEndpoint();
  try {
    const agent = join(dir, 'agent.js');
    writeFileSync(agent, (await buildAgent(join(dir, 'agent.zip'))).code);
    const minimal = join(dir, 'minimal.js');
    await build({ ...LAMBDA_BUNDLE_OPTIONS, entryPoints: [MINIMAL], outfile: minimal, logLevel: 'warning' });
    const env = {
      TRAFFIC_QUEUE_URL: sqs.queueUrl,
      AWS_ENDPOINT_URL: sqs.endpoint,
      AGENT_ALLOWED_ORIGINS: 'https://www.example.com',
      LOG_LEVEL: 'info',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const results: Record<'agent' | 'minimal', ChildResult[]> = { agent: [], minimal: [] };
    for (let run = 0; run < runs; run++) {
      // Alternating, so a busier moment of the machine falls on both.
      for (const [name, bundle] of run % 2 === 0
        ? ([
            ['agent', agent],
            ['minimal', minimal],
          ] as const)
        : ([
            ['minimal', minimal],
            ['agent', agent],
          ] as const)) {
        results[name].push(await runChild(bundle, warm, env));
      }
    }
    const row = (name: 'agent' | 'minimal') => {
      const r = results[name];
      return `${name.padEnd(8)} cold start ${median(r.map((x) => x.coldMs)).toFixed(0)} ms from process start (load + first answer ${median(r.map((x) => x.loadAndFirstMs)).toFixed(0)} ms), ${median(r.map((x) => x.warmCpuUs)).toFixed(0)} µs CPU per warm invocation`;
    };
    process.stdout.write(`Lambda bundle, medians of ${runs} processes each (${warm} warm invocations per process):\n${row('agent')}\n${row('minimal')}\n`);
    const ratio = median(results.agent.map((x) => x.warmCpuUs)) / median(results.minimal.map((x) => x.warmCpuUs));
    process.stdout.write(`agent / minimal CPU per warm invocation: ${ratio.toFixed(2)}x\n`);
  } finally {
    await sqs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function beaconFigures(): Promise<void> {
  const start = npmStart({});
  const browser = await launchBrowser().catch(async (error: unknown) => {
    await start.stop();
    throw error;
  });
  try {
    const ready = await start.waitForLine((l) => typeof l.agentUrl === 'string', 'the agent line');
    const entry = String(ready.agentUrl);
    const page = await browser.newPage();
    await page.goto(`${entry}demo`);
    const count = rate * seconds;
    // Sent from the page, at a steady rate; each url is its visit's id here.
    const sentAt = await page.evaluate(
      async ({ entry, count, rate }) => {
        const times: number[] = [];
        const started = Date.now();
        for (let i = 0; i < count; i++) {
          const due = started + (i * 1000) / rate;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          times.push(Date.now());
          navigator.sendBeacon(entry, JSON.stringify({ type: 'referrer', url: `https://bench.example/${i}` }));
        }
        return times;
      },
      { entry, count, rate },
    );
    const written = new Map<string, number>();
    await start.waitForLine(() => {
      for (const line of start.lines) {
        if (line.msg !== 'write') continue;
        for (const row of rowsWritten([line], 'traffic_referrer')) {
          if (typeof row.url === 'string' && row.url.startsWith('https://bench.example/') && !written.has(row.url)) written.set(row.url, Number(line.time));
        }
      }
      return written.size >= count;
    }, `${count} beacon rows`);
    const latencies = sentAt.map((sent, i) => written.get(`https://bench.example/${i}`)! - sent).sort((a, b) => a - b);
    process.stdout.write(
      `Beacon -> row on npm start's embedded default, ${count} beacons at ${rate}/s from headless Chromium: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms\n`,
    );
  } finally {
    await browser.close();
    await start.stop();
  }
}

await lambdaFigures();
await beaconFigures();
