/**
 * The Node version guard: every npm script that runs node runs it first, the processor imports it
 * first, and on the machine's old Node it prints one line and exits non-zero.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { findOldNode } from '../support/old-node.ts';

const GUARD = 'node src/platform/require-node.mjs';
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };

test('every npm script that runs node runs the guard first', (t) => {
  const running = Object.entries(pkg.scripts).filter(([, command]) => /(^|[\s&;])(exec\s+)?node\s/.test(command));
  t.true(running.length >= 10, running.map(([name]) => name).join(', '));
  for (const [name, command] of running) t.true(command.startsWith(`${GUARD} && `), `${name}: ${command}`);
});

test('the processor imports the guard before anything else', (t) => {
  const imports = readFileSync('src/processor/main.ts', 'utf8')
    .split('\n')
    .filter((line) => /^import\s/.test(line));
  t.is(imports[0], "import '../platform/require-node.mjs';");
});

test('on Node 24 the guard lets the command run', (t) => {
  const run = spawnSync(process.execPath, ['src/platform/require-node.mjs'], { encoding: 'utf8' });
  t.is(run.status, 0);
  t.is(run.stderr, '');
});

const old = findOldNode();
const withOldNode = old ? test : test.skip;

withOldNode(
  `on the machine's Node ${old?.version ?? '(none older than 24 found)'}, the guard prints one line naming npm start and npx node, and exits 1`,
  (t) => {
    const run = spawnSync(old!.path, ['src/platform/require-node.mjs'], { encoding: 'utf8' });
    t.is(run.status, 1);
    t.is(run.stdout, '');
    const lines = run.stderr.split('\n').filter(Boolean);
    t.is(lines.length, 1, run.stderr);
    t.regex(lines[0], new RegExp(`^traffic: Node\\.js 24 or newer is needed, this is v${old!.version.replaceAll('.', '\\.')}; `));
    t.regex(lines[0], /npm start.*npx node/);
  },
);
