/**
 * The processor image checked without a Docker engine: the Dockerfile parsed into stages and
 * instructions and compared with the project (Node version, `npm start` flags, the files the
 * processor imports), plus the healthcheck script it runs, against real and hanging servers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, normalize, relative } from 'node:path';
import test from 'ava';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, rest] = /^(\w+)\s+(.*)$/.exec(line)!;
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=');
      args[name] = value;
    } else if (upper === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      const resolved = image.replace(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? '');
      stages.push({ image: resolved, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

const { stages } = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
const runtime = stages.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
/** The Node version the project runs on: the `node` package the lock file pins. */
const projectNode: string = lock.packages['node_modules/node'].version;
/**
 * `npm start` is `<Node version guard> && [exec] node <flags> src/processor/main.ts` (exec: the shell hands
 * its pid to node). The image needs no guard: its Node is the project's (checked above).
 */
const startCommand: string[] = pkg.scripts.start
  .replace(/^node src\/platform\/require-node\.mjs && /, '')
  .replace(/^exec\s+/, '')
  .replace('$npm_package_config_nodeFlags', pkg.config.nodeFlags)
  .split(/\s+/);

test('multi-stage, every stage on a slim Node image pinned to the version the project runs on', (t) => {
  t.true(stages.length >= 2, 'a dependency stage and a runtime stage');
  t.regex(projectNode, /^24\./, 'the project runs on Node 24');
  for (const stage of stages) {
    const match = /^node:(\d+\.\d+\.\d+)-[\w-]*slim(@sha256:[0-9a-f]{64})?$/.exec(stage.image);
    t.truthy(match, `${stage.image} is a node slim image with an exact version`);
    t.is(match?.[1], projectNode, `${stage.image} runs the project's Node ${projectNode}`);
    t.is(projectNode.split('.')[0], pkg.engines.node.replace(/\D/g, ''), 'engines names the same major');
  }
});

test('dependencies are installed with npm ci --omit=dev from the lock file, and copied into the runtime', (t) => {
  const runs = stages.flatMap((stage) => all(stage, 'RUN')).map((i) => i.args);
  t.true(
    runs.some((run) => /\bnpm ci\b[^&;]*--omit=dev/.test(run)),
    runs.join('\n'),
  );
  t.false(
    runs.some((run) => /\bnpm (install|i)\b/.test(run)),
    'never npm install: the lock file decides',
  );
  const copies = stages.flatMap((stage) => all(stage, 'COPY')).map((i) => i.args);
  t.true(copies.some((copy) => /package-lock\.json/.test(copy)));
  t.true(all(runtime, 'COPY').some((i) => /--from=\w+/.test(i.args) && /node_modules/.test(i.args)));
  t.false(
    all(runtime, 'RUN').some((i) => /npm ci\b(?![^&;]*--omit=dev)/.test(i.args)),
    'no dev install in the runtime',
  );
});

test('the runtime runs as a non-root user', (t) => {
  const users = all(runtime, 'USER').map((i) => i.args.split(':')[0]);
  t.true(users.length > 0, 'USER is set in the runtime stage');
  t.false(['root', '0'].includes(users.at(-1)!), `last USER ${users.at(-1)} is not root`);
  const userIndex = runtime.instructions.findLastIndex((i) => i.keyword === 'USER');
  const cmdIndex = runtime.instructions.findLastIndex((i) => i.keyword === 'CMD');
  t.true(userIndex < cmdIndex, 'USER before CMD');
});

test('CMD is exec form (node is PID 1 and gets SIGTERM) with the same Node flags as npm start', (t) => {
  t.is(all(runtime, 'ENTRYPOINT').length, 0, 'no ENTRYPOINT: CMD is the whole command');
  const cmd = all(runtime, 'CMD').at(-1)!;
  const command = JSON.parse(cmd.args);
  t.true(Array.isArray(command), 'exec form');
  t.deepEqual(command, startCommand);
});

test('HEALTHCHECK runs the healthcheck script, which asks /healthz on METRICS_PORT', (t) => {
  const healthchecks = all(runtime, 'HEALTHCHECK');
  t.is(healthchecks.length, 1);
  const [, options, cmd] = /^(.*?)CMD\s+(\[.*\])$/.exec(healthchecks[0].args)!;
  t.deepEqual(JSON.parse(cmd), ['node', 'src/processor/runtime/healthcheck.ts']);
  for (const option of ['--interval=', '--timeout=', '--start-period=', '--retries=']) t.true(options.includes(option), option);
  const env = all(runtime, 'ENV')
    .map((i) => i.args)
    .join(' ');
  t.regex(env, /METRICS_PORT=9464/);
  t.true(all(runtime, 'EXPOSE').some((i) => i.args.split(/\s+/).includes('9464')));
  const script = readFileSync('src/processor/runtime/healthcheck.ts', 'utf8');
  t.regex(script, /process\.env\.METRICS_PORT/);
  t.regex(script, /\/healthz/);
});

/** Every file main.ts loads, following relative static and dynamic imports. */
function importGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      visit(normalize(join(dirname(file), spec)));
    }
  };
  visit(entry);
  return seen;
}

test('the runtime copies every file the processor and its healthcheck import, and nothing ignores them', (t) => {
  const copied = all(runtime, 'COPY')
    .filter((i) => !i.args.includes('--from='))
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1),
    );
  const files = [...importGraph('src/processor/main.ts'), 'src/processor/runtime/healthcheck.ts', 'package.json'];
  t.true(files.length > 20);
  for (const file of files) {
    t.true(
      copied.some((source) => file === source || !relative(source, file).startsWith('..')),
      `${file} is copied into the image`,
    );
  }
  const ignored = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const source of copied)
    t.false(
      ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)),
      `${source} is in the build context`,
    );
  for (const secretOrBulk of ['.env', 'node_modules', '.git', '*.tfstate', '.terraform'])
    t.true(ignored.includes(secretOrBulk), `${secretOrBulk} stays out of the context`);
  t.true(existsSync('.dockerignore'));
});

const runHealthcheck = (port: string | undefined) =>
  new Promise<{ status: number | null; stderr: string; ms: number }>((resolve) => {
    const started = Date.now();
    const env = { ...process.env };
    delete env.METRICS_PORT;
    if (port !== undefined) env.METRICS_PORT = port;
    // Asynchronous: the servers below answer from this process.
    const child = spawn(process.execPath, ['src/processor/runtime/healthcheck.ts'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A healthcheck without its own deadline would hang here: stop it well after it should have given up.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (status) => {
      clearTimeout(guard);
      resolve({ status, stderr, ms: Date.now() - started });
    });
  });

const serve = async (handler: Parameters<typeof createServer>[1]) => {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: String((server.address() as { port: number }).port) };
};

test('the healthcheck exits 0 on a 200 from /healthz and 1 on a 503', async (t) => {
  const seen: string[] = [];
  let status = 200;
  const { server, port } = await serve((request, response) => {
    seen.push(request.url!);
    response.writeHead(status).end('{}');
  });
  t.teardown(() => server.close());
  t.is((await runHealthcheck(port)).status, 0);
  status = 503;
  const failed = await runHealthcheck(port);
  t.is(failed.status, 1);
  t.regex(failed.stderr, /503/);
  t.deepEqual(seen, ['/healthz', '/healthz']);
});

test('the healthcheck fails within its deadline when /healthz accepts and never answers, or nothing listens', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  const { server, port } = await serve(() => {
    // never answers
  });
  server.on('connection', (socket) => sockets.add(socket));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const hung = await runHealthcheck(port);
  t.is(hung.status, 1);
  t.true(hung.ms < 20_000, `gave up after ${hung.ms} ms`);
  server.close();
  for (const socket of sockets) socket.destroy();
  t.is((await runHealthcheck(port)).status, 1);
  const unset = spawnSync(process.execPath, ['src/processor/runtime/healthcheck.ts'], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
  t.is(unset.status, 1);
  t.regex(unset.stderr, /METRICS_PORT/);
});
