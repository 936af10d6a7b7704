/**
 * `npm run traffic -- --count N --rate R --mix type-in=45,referrer=45,invalid=10`: sends
 * realistic visits through the agent's Lambda handler to the configured queue (by default the
 * embedded one `npm start` serves). Progress on stderr when it is a terminal; the summary on
 * stdout. Exit status 1 when an invocation failed or answered other than expected.
 */
import { createHandler, type LambdaHandler } from '../../src/agent/handler.ts';
import { LocalTargetError, resolveLocalTarget, targetEnv } from '../local/target.ts';
import { parseTrafficArgs, TRAFFIC_USAGE, UsageError, type TrafficArgs } from './args.ts';
import { generateEvents } from './generate.ts';
import { progressLine, summaryText } from './progress.ts';
import { runTraffic } from './run.ts';

function fail(message: string, code: number): never {
  process.stderr.write(`traffic: ${message}\n`);
  process.exit(code);
}

let args: TrafficArgs;
try {
  args = parseTrafficArgs(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\n${TRAFFIC_USAGE}`, 2);
  throw error;
}
if (args.help) {
  process.stdout.write(`${TRAFFIC_USAGE}\n`);
  process.exit(0);
}

let handler: LambdaHandler;
try {
  // One log line per rejected visit is right for Lambda, noise here: warnings and errors only.
  handler = createHandler(targetEnv(await resolveLocalTarget(process.env), { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }));
} catch (error) {
  if (error instanceof LocalTargetError) fail(error.message, 1);
  throw error;
}

const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

const bar = process.stderr.isTTY === true;
const DRAW_EVERY_MS = 100;
let lastDraw = 0;
const summary = await runTraffic({
  events: generateEvents({ count: args.count, mix: args.mix, seed: args.seed, sources: args.sources }),
  invoke: handler,
  rate: args.rate,
  concurrency: args.concurrency,
  signal: controller.signal,
  onResult: (_result, progress) => {
    if (!bar) return;
    const now = performance.now();
    if (now - lastDraw < DRAW_EVERY_MS && progress.sent < args.count) return;
    lastDraw = now;
    process.stderr.write(`\r${progressLine(progress, args.count)}\x1b[K`);
  },
});
if (bar) process.stderr.write('\n');
process.stdout.write(args.json ? `${JSON.stringify(summary)}\n` : summaryText(summary));
process.exitCode = summary.failed > 0 || summary.unexpected > 0 ? 1 : 0;
