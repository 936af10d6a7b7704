/**
 * `npm run drain-burst -- [--count N] [--pollers P]`: the embedded default under a burst.
 * Starts fauxqs in this process (as `npm start` does), preloads N mixed visits (2 % invalid),
 * runs the processor with the MySQL echo adapter (its log lines discarded), and prints the
 * time to drain and the process's peak RSS.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { ConfigError, loadConfig, type ProcessorConfig } from '../src/processor/config/config.ts';
import { startEmbeddedEndpoint } from '../src/processor/sqs/embedded.ts';
import { startProcessor } from '../src/processor/processor.ts';
import { createStorage } from '../src/processor/storage/index.ts';
import { localSqsClient } from '../src/platform/sqs.ts';
import { makeBurst, sendBurst } from './support/burst.ts';
import { readOptions } from './support/cli.ts';
import { queueDepth } from './support/queue-depth.ts';
import { seededRandom } from './support/random.ts';

const cli = readOptions('drain-burst', 'usage: npm run drain-burst [-- [--count N] [--pollers P]]', {
  count: { type: 'string', default: '10000' },
  pollers: { type: 'string', default: '8' },
});
const count = cli.wholeNumber('count', cli.values.count, 1, 1_000_000);
/** The processor's own configuration checks the pollers, as it checks POLLERS for npm start. */
function processorConfig(): ProcessorConfig {
  try {
    return loadConfig({ POLLERS: cli.values.pollers, RECEIVE_WAIT_SECONDS: '1' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return cli.fail(`--pollers: ${error.message}`);
  }
}
const config = processorConfig();

const embedded = await startEmbeddedEndpoint(0);
const client = localSqsClient(embedded.endpoint);
const burst = makeBurst(count, 0.02, seededRandom(1));
const invalid = burst.filter((m) => m.expectedCode).length;
await sendBurst(client, embedded.queueUrl, burst);
const rssBefore = process.memoryUsage().rss;

let written = 0;
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const processor = startProcessor({
  config,
  endpoint: embedded.endpoint,
  queueUrl: embedded.queueUrl,
  storage: createStorage('mysql', pino(discard)),
  logger: pino({ level: 'silent' }),
  onReport: (report) => {
    if (report.kind === 'written') written += report.count;
  },
});
const started = performance.now();
for (;;) {
  const [pipeline, dlq] = await Promise.all([queueDepth(client, embedded.queueUrl), queueDepth(client, embedded.dlqUrl)]);
  if (pipeline.visible + pipeline.invisible === 0 && dlq.visible === invalid) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const seconds = (performance.now() - started) / 1000;
processor.stop();
await processor.done;
client.destroy();
await embedded.stop();
const peakRss = process.resourceUsage().maxRSS * 1024;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
console.log(
  `drained ${count} messages (${written} written, ${invalid} dead-lettered) in ${seconds.toFixed(2)} s = ${Math.round(count / seconds)} msg/s; ` +
    `peak RSS ${mb(peakRss)} MB (RSS ${mb(rssBefore)} MB after preloading, fauxqs in the same process)`,
);
