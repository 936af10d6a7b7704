/**
 * `npm run sqs`: the embedded SQS endpoint alone (fauxqs, with the PIPELINE and its DLQ), the one
 * `npm start` serves, without a processor draining it: to look at a queue, fill it before a
 * processor starts, or point another tool at it. EMBEDDED_SQS_PORT as for `npm start` (0: any
 * free port). Stops on Ctrl-C (SIGINT) or SIGTERM; the messages go with it (kept in memory).
 */
import { integer, ConfigError } from '../../src/platform/config.ts';
import { PortInUseError, startEmbeddedEndpoint } from '../../src/processor/sqs/embedded.ts';
import { EMBEDDED_PORT } from '../../src/queues.ts';
import { readOptions } from '../support/cli.ts';

readOptions('sqs', 'usage: npm run sqs   (EMBEDDED_SQS_PORT: the port, default 4566, 0 for any free port; Ctrl-C stops it)', {});

function fail(message: string): never {
  process.stderr.write(`sqs: ${message}\n`);
  process.exit(1);
}

let port: number;
try {
  port = integer(process.env, 'EMBEDDED_SQS_PORT', EMBEDDED_PORT, 0, 65_535);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

const endpoint = await startEmbeddedEndpoint(port).catch((error: unknown) => {
  if (error instanceof PortInUseError) fail(error.message);
  throw error;
});

console.log(`embedded SQS endpoint: ${endpoint.endpoint} (no processor: messages stay until something receives them)`);
console.log(`queue: ${endpoint.queueUrl}`);
console.log(`dlq:   ${endpoint.dlqUrl}`);
console.log(
  `try:   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url ${endpoint.endpoint} sqs get-queue-attributes --queue-url ${endpoint.queueUrl} --attribute-names All`,
);
console.log(
  `tools: AWS_ENDPOINT_URL=${endpoint.endpoint} npm run agent:invoke -- '{"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}'   (Ctrl-C stops the endpoint)`,
);

let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  await endpoint.stop();
  console.log(`embedded SQS endpoint stopped (${signal})`);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
