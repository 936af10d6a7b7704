/**
 * `npm start`: the Traffic Processor. With AWS_ENDPOINT_URL and TRAFFIC_QUEUE_URL set it
 * drains that queue (LocalStack or AWS); with nothing set it starts the embedded SQS endpoint.
 */
import type { Server } from 'node:http';
import { ConfigError, loadConfig, type ProcessorConfig } from './config.ts';
import { DebugOptionError, parseDebugArgs, startInspection, type DebugOptions } from './debug.ts';
import type { EmbeddedEndpoint } from './embedded.ts';
import type { Health } from './health.ts';
import { startHttpServer } from './http-server.ts';
import { createLogger } from '../platform/logger.ts';
import { createMetrics } from './metrics.ts';
import { startStatsLog } from './stats-log.ts';
import { startProcessor, type ProcessorHandle } from './processor.ts';
import { leanCallsFrom } from './sqs-client.ts';
import { handleSignals } from './signals.ts';
import { createStorage } from './storage/index.ts';

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
try {
  config = loadConfig();
  debug = parseDebugArgs(process.argv.slice(2));
  leanCallsFrom(process.env);
} catch (error) {
  fail(error instanceof ConfigError || error instanceof Error ? error.message : String(error));
}

const logger = createLogger({ name: 'traffic-processor', level: config.logLevel });

// Optional features that cannot start stop the process here, before anything is received.
let inspection: Awaited<ReturnType<typeof startInspection>>;
try {
  inspection = await startInspection(debug, logger);
} catch (error) {
  fail(error instanceof DebugOptionError ? error.message : `could not start debugging: ${String(error)}`);
}
const metrics = createMetrics();
let processor: ProcessorHandle | undefined;
const health = (): Health => processor?.health() ?? { ok: false, state: 'starting', problems: ['processor is starting'] };
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
  let embeddedModule: typeof import('./embedded.ts');
  try {
    embeddedModule = await import('./embedded.ts');
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

processor = startProcessor({
  config,
  endpoint,
  queueUrl,
  dlqUrl,
  storage: createStorage(config.storageBackend, logger),
  logger,
  inspect: inspection.inspect,
  onReport: metrics.observe,
});
metrics.attach(processor.credits);
const stopStatsLog =
  config.statsIntervalMs > 0 ? startStatsLog({ logger, stats: processor.stats, credits: processor.credits, intervalMs: config.statsIntervalMs }) : () => {};

handleSignals({
  onFirst: (signal) => {
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: draining in-flight visits (send the signal again to exit at once)');
    processor.stop();
  },
  onSecond: (signal) => {
    logger.warn({ signal }, 'exiting at once; messages still in flight return to the queue when their visibility timeout ends');
    process.exit(130);
  },
});

let exitCode = 0;
try {
  const output = await processor.done;
  if (output.status === 'failed') {
    logger.error({ err: output.error }, 'processor could not start');
    exitCode = 1;
  }
} catch (error) {
  logger.fatal({ err: error }, 'processor crashed');
  exitCode = 1;
}
logger.info({ stats: processor.stats }, 'processor stopped');
stopStatsLog();
httpServer?.close();
await inspection.close();
await embedded?.stop();
// Let pino flush, then leave even if a stray handle (keep-alive socket) lingers.
setTimeout(() => process.exit(exitCode), 50).unref();
process.exitCode = exitCode;
