/**
 * `npm run agent:invoke -- '<event json>'`: runs the Lambda handler on this machine against the
 * configured queue (by default the embedded one `npm start` serves) and prints its response.
 * Exit status: 0 for a 2xx answer (and --help), 1 for any other answer or a handler error, 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { localContext } from './context.ts';
import { createHandler, type LambdaHandler } from '../../src/agent/handler.ts';
import { LocalTargetError, resolveLocalTarget, targetEnv } from './target.ts';

const USAGE = `usage: npm run agent:invoke -- '<event json>'   (or - to read the event from stdin)
example: npm run agent:invoke -- '{"queryStringParameters":{"type":"referrer","url":"test.com"}}'
queue: TRAFFIC_QUEUE_URL (+ AWS_ENDPOINT_URL), else ${'dev-traffic-queue'} on AWS_ENDPOINT_URL, default http://127.0.0.1:4566 (npm start)`;

function fail(message: string, code: number): never {
  process.stderr.write(`agent:invoke: ${message}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
if (args.length !== 1) fail(`expected one event argument\n${USAGE}`, 2);
const text = args[0] === '-' ? readFileSync(0, 'utf8') : args[0]!;
let event: unknown;
try {
  event = JSON.parse(text);
} catch (error) {
  fail(`the event is not valid JSON (${(error as Error).message})\n${USAGE}`, 2);
}

let handler: LambdaHandler;
try {
  handler = createHandler(targetEnv(await resolveLocalTarget(process.env), process.env));
} catch (error) {
  if (error instanceof LocalTargetError) fail(error.message, 1);
  throw error;
}
try {
  const response = await handler(event, localContext());
  process.stdout.write(`${JSON.stringify(response)}\n`);
  process.exitCode = response.statusCode >= 200 && response.statusCode < 300 ? 0 : 1;
} catch (error) {
  // What Lambda would report for a thrown error (a direct invoke the queue refused, a bad configuration).
  const { name, message } = error as Error;
  process.stdout.write(`${JSON.stringify({ errorType: name, errorMessage: message })}\n`);
  process.exitCode = 1;
}
