/** fauxqs in its own process for the benchmark; prints {"port":N} once listening. */
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
