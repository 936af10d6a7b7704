/**
 * `node src/processor/runtime/healthcheck.ts`: exit 0 when the processor in this container answers
 * GET /healthz with 200 on METRICS_PORT, 1 otherwise. The image's HEALTHCHECK and the Fargate
 * container healthCheck run it: slim images have no curl, and Node is already there.
 */
const TIMEOUT_MS = 3000;

const port = Number(process.env.METRICS_PORT ?? '');
if (!Number.isInteger(port) || port < 1 || port > 65_535) {
  process.stderr.write('healthcheck: METRICS_PORT must be the port the processor serves /healthz on (1-65535)\n');
  process.exit(1);
}

try {
  // The deadline covers a processor that accepts the connection and never answers.
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = await response.text();
  if (!response.ok) {
    process.stderr.write(`healthcheck: /healthz answered ${response.status}: ${body.slice(0, 500)}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  process.stderr.write(`healthcheck: no answer from http://127.0.0.1:${port}/healthz: ${(error as Error).message}\n`);
  process.exit(1);
}
