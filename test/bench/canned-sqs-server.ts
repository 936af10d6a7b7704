/**
 * An HTTP server that answers every SQS JSON request at once with the body given for its
 * operation, for `sqs-client.ts --http`: in its own process, so the client's CPU is its own.
 * `node test/bench/canned-sqs-server.ts '{"ReceiveMessage": {...}, "*": {...}}'`; prints {"port":N}.
 */
import { createServer } from 'node:http';

const answers = new Map(Object.entries(JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>).map(([op, body]) => [op, JSON.stringify(body)]));
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const body = answers.get(operation) ?? answers.get('*') ?? '{}';
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'canned', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
