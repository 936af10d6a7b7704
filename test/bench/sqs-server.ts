/**
 * fauxqs in its own process for the benchmark; prints {"port":N} once listening, and answers
 * each "cpu" line on stdin with {"cpuUs":N}, its CPU time so far (user + system).
 */
import { createInterface } from 'node:readline';
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'cpu') continue;
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuUs: user + system })}\n`);
}
