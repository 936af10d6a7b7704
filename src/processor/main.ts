/**
 * `npm start`: the Traffic Processor. With AWS_ENDPOINT_URL and TRAFFIC_QUEUE_URL set it
 * drains that queue (LocalStack or AWS); with nothing set it starts the embedded SQS endpoint.
 */
// First: on a Node too old for this code it prints one line and exits before the rest loads.
import '../platform/require-node.mjs';
import type { Server } from 'node:http';
import { LOCAL_ENTRY_KNOBS, loadLocalEntryConfig, type LocalEntryConfig } from '../agent/config.ts';
import type { LocalAgent } from '../agent/local-entry.ts';
import { KNOBS, loadConfig, type ProcessorConfig } from './config/config.ts';
import { DebugOptionError, parseDebugArgs, startInspection, type DebugOptions } from './runtime/debug.ts';
import type { EmbeddedEndpoint } from './sqs/embedded.ts';
import { withStorage, type Health } from './runtime/health.ts';
import { startHttpServer } from './runtime/http-server.ts';
import { createLogger, logsToTerminal } from '../platform/logger.ts';
import { createMetrics } from './runtime/metrics.ts';
import { startStatsLog } from './runtime/stats-log.ts';
import { startProcessor, type ProcessorHandle } from './processor.ts';
import { handleSignals } from './runtime/signals.ts';
import { knobSuspects, knobWarning } from './config/knob-spelling.ts';
import { REMOVED_KNOBS } from './config/tuning.ts';
import { createStorage } from './storage/index.ts';
import { closeStorage, startWhenReady } from './storage/lifecycle.ts';
import { createWrittenLines } from './runtime/written-lines.ts';

function fail(message: string): never {
  process.stderr.write(`traffic-processor: ${message}\n`);
  process.exit(2);
}

/** Why a server could not listen, in words. */
function listenFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return 'the port is in use';
  if (code === 'EACCES') return 'permission denied for that port';
  return `cannot listen (${code ?? String(error)})`;
}

let config: ProcessorConfig;
let debug: DebugOptions;
let entryConfig: LocalEntryConfig;
try {
  config = loadConfig();
  entryConfig = loadLocalEntryConfig(process.env);
  debug = parseDebugArgs(process.argv.slice(2));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

const terminal = logsToTerminal('traffic-processor');
const logger = createLogger({ name: 'traffic-processor', level: config.logLevel, pretty: terminal });
const ignoredKnobs = knobWarning(knobSuspects(process.env, [...KNOBS, ...LOCAL_ENTRY_KNOBS], REMOVED_KNOBS));
if (ignoredKnobs) logger.warn(ignoredKnobs);
// On a terminal, a short line per written batch (grouped per second) instead of the rows.
const writtenLines = terminal ? createWrittenLines(logger) : undefined;

// Optional features that cannot start stop the process here, before anything is received.
let inspection: Awaited<ReturnType<typeof startInspection>>;
try {
  inspection = await startInspection(debug, logger);
} catch (error) {
  fail(error instanceof DebugOptionError ? error.message : `could not start debugging: ${String(error)}`);
}
const metrics = createMetrics();
const storage = createStorage(config.storageBackend, logger, { terminal });
let processor: ProcessorHandle | undefined;
const health = (): Health =>
  withStorage(processor?.health() ?? { ok: false, state: 'starting', problems: ['processor is starting'] }, storage.backend, storage.status());
// Aborted by the first SIGTERM/SIGINT: a stop before the processor runs (waiting for storage) ends the wait.
const stopping = new AbortController();
// npm start's agent entry (embedded default): closed at the first signal.
let localAgent: LocalAgent | undefined;
handleSignals({
  onFirst: (signal) => {
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: draining in-flight visits (send the signal again to exit at once)');
    stopping.abort(new Error(`${signal} received`));
    // No visit is accepted that the draining processor would not take.
    void localAgent?.close();
    processor?.stop();
  },
  onSecond: (signal) => {
    logger.warn({ signal }, 'exiting at once; messages still in flight return to the queue when their visibility timeout ends');
    process.exit(130);
  },
});
let httpServer: Server | undefined;
if (config.metricsPort > 0) {
  try {
    httpServer = await startHttpServer({ port: config.metricsPort, health, registry: metrics.registry });
  } catch (error) {
    fail(`METRICS_PORT=${config.metricsPort}: ${listenFailure(error)}; set METRICS_PORT to a free port, or 0 to turn health and metrics off`);
  }
  logger.info({ port: config.metricsPort }, `health and metrics on http://localhost:${config.metricsPort}/healthz and /metrics`);
}

let embedded: EmbeddedEndpoint | undefined;
let endpoint = config.endpoint;
let queueUrl = config.queueUrl;
let dlqUrl = config.dlqUrl;
if (!queueUrl) {
  // Imported only here: the embedded endpoint (fauxqs) is a development package, absent from
  // a production install (`npm ci --omit=dev`, the image), which always names its queue.
  let embeddedModule: typeof import('./sqs/embedded.ts');
  try {
    embeddedModule = await import('./sqs/embedded.ts');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    fail(
      'TRAFFIC_QUEUE_URL is not set and the embedded SQS endpoint (fauxqs, a development package) is not installed: set TRAFFIC_QUEUE_URL (and AWS_ENDPOINT_URL for an endpoint other than AWS)',
    );
  }
  try {
    embedded = await embeddedModule.startEmbeddedEndpoint(config.embeddedPort);
  } catch (error) {
    fail(error instanceof embeddedModule.PortInUseError ? error.message : `could not start the embedded SQS endpoint: ${String(error)}`);
  }
  ({ endpoint, queueUrl, dlqUrl } = embedded);
  logger.info(
    { endpoint, queueUrl, dlqUrl },
    `embedded SQS endpoint ready; send visits with: aws --endpoint-url ${endpoint} sqs send-message --queue-url ${queueUrl} --message-body '{"type":"referrer","created_at":${Date.now()},"url":"test.com"}'`,
  );
}

// The agent's HTTP entry, on the embedded default only: a deployed agent has its function URL.
if (embedded && entryConfig.port !== undefined) {
  const { startLocalAgent } = await import('../agent/local-entry.ts');
  try {
    localAgent = await startLocalAgent({
      config: { ...entryConfig, port: entryConfig.port },
      endpoint: embedded.endpoint,
      queueUrl: embedded.queueUrl,
      logger,
    });
  } catch (error) {
    fail(`AGENT_PORT=${entryConfig.port}: ${listenFailure(error)}; set AGENT_PORT to a free port, or to off to serve no HTTP entry`);
  }
  const { url } = localAgent.entry;
  logger.info(
    { agentUrl: `${url}/`, demoPage: `${url}/demo`, allowedOrigins: [...localAgent.allowedOrigins] },
    `agent on ${url}/: open ${url}/demo in a browser, or send a visit with: curl -X POST --data '{"type":"referrer","url":"https://example.com/"}' ${url}/`,
  );
}

// Nothing is received before storage can take writes; only a stop ends this wait early.
processor = await startWhenReady(storage, { logger, signal: stopping.signal }, () =>
  startProcessor({
    config,
    endpoint,
    queueUrl,
    dlqUrl,
    storage,
    logger,
    inspect: inspection.inspect,
    onReport: (report) => {
      metrics.observe(report);
      writtenLines?.report(report);
    },
  }),
);

let exitCode = 0;
if (processor) {
  const running = processor;
  const pipeline = queueUrl;
  const runningLine = running.actor.subscribe((snapshot) => {
    if (snapshot.value !== 'running') return;
    runningLine.unsubscribe();
    const queue = pipeline.slice(pipeline.lastIndexOf('/') + 1);
    const where = endpoint ?? `SQS in ${config.region}`;
    logger.info(
      { endpoint: where, queueUrl: pipeline, pollers: config.pollers },
      `running: ${config.pollers} pollers draining ${queue} on ${where}; Ctrl-C stops`,
    );
  });
  metrics.attach(running.credits);
  const stopStatsLog =
    config.statsIntervalMs > 0 ? startStatsLog({ logger, stats: running.stats, credits: running.credits, intervalMs: config.statsIntervalMs }) : () => {};
  try {
    const output = await running.done;
    if (output.status === 'failed') {
      logger.error({ err: output.error }, 'processor could not start');
      exitCode = 1;
    }
  } catch (error) {
    logger.fatal({ err: error }, 'processor crashed');
    exitCode = 1;
  }
  writtenLines?.flush();
  logger.info({ stats: running.stats }, 'processor stopped');
  stopStatsLog();
}
// After the last write: the writers have stopped with the supervisor.
await closeStorage(storage, logger);
httpServer?.close();
await inspection.close();
await localAgent?.close();
await embedded?.stop();
// Let pino flush, then leave even if a stray handle (keep-alive socket) lingers.
setTimeout(() => process.exit(exitCode), 50).unref();
process.exitCode = exitCode;
