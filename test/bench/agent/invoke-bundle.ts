/**
 * Child process of ./run.ts: loads one Lambda bundle as the runtime would (require of index.js),
 * answers one function URL event, then `--warm N` more, and prints one JSON line: the time from
 * process start to the first answer, and the CPU µs per warm invocation.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const [bundle, warmText] = process.argv.slice(2);
const warm = Number(warmText ?? 0);
const origin = 'https://www.example.com';

function event(i: number): unknown {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { origin, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'bench' },
    requestContext: {
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'bench' },
      requestId: `r-${i}`,
      timeEpoch: Date.now(),
    },
    body: JSON.stringify({ type: 'referrer', url: `https://news.example/${i}` }),
    isBase64Encoded: false,
  };
}

const context = (i: number) => ({ awsRequestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, getRemainingTimeInMillis: () => 3_000 });
type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number }>;

const loadStart = performance.now();
const { handler } = createRequire(import.meta.url)(bundle!) as { handler: Handler };
const first = await handler(event(0), context(0));
const coldMs = performance.now();
if (first.statusCode !== 202) throw new Error(`the first answer was ${first.statusCode}`);

const cpuBefore = process.cpuUsage();
for (let i = 1; i <= warm; i++) {
  const answer = await handler(event(i), context(i));
  if (answer.statusCode !== 202) throw new Error(`answer ${i} was ${answer.statusCode}`);
}
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({ coldMs, loadAndFirstMs: coldMs - loadStart, warmCpuUs: warm > 0 ? (cpu.user + cpu.system) / warm : 0 })}\n`);
process.exit(0);
