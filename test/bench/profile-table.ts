/**
 * `node test/bench/profile-table.ts FILE.cpuprofile [--top N]`: the top functions of a
 * `node --cpu-prof` profile by self time, and self time by package, as markdown tables.
 * When the bench wrote FILE's drain window next to it (FILE minus .cpuprofile, plus
 * .window.json), only samples inside the drain count.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readOptions } from '../../scripts/support/cli.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const cli = readOptions(
  'profile-table',
  'usage: node test/bench/profile-table.ts FILE.cpuprofile [--top N]',
  { top: { type: 'string', default: '25' } },
  { positionals: true },
);
const file = cli.positionals[0];
if (!file || cli.positionals.length > 1) cli.fail('name one profile file');
if (!existsSync(file)) cli.fail(`no such file: ${file}`);
const topCount = cli.wholeNumber('top', cli.values.top, 1);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const windowFile = file.replace(/\.cpuprofile$/, '.window.json');
const window = existsSync(windowFile) ? (JSON.parse(readFileSync(windowFile, 'utf8')) as { startUs: number; endUs: number }) : undefined;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
let t = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  // A sample's time is the gap to the next one.
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (window && (t < window.startUs || t > window.endUs)) continue;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}

/** Where a function lives: a package, node internals, the project, or V8 itself. */
function origin(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = url
    .match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)
    ?.pop()
    ?.slice('node_modules/'.length);
  if (pkg) return pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') ? `${pkg.split('/')[0]} (AWS SDK)` : pkg;
  const own = url.match(/\/(src|machines|test)\/.*$/);
  return own ? `project ${own[0].slice(1).split('/').slice(0, 2).join('/')}` : url;
}

const fns = new Map<string, number>();
const origins = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id)!;
  const where = origin(callFrame.url, callFrame.functionName);
  // Two path segments: the SDK's bundles are all index.js, told apart by their folder (retry/, signature-v4/...).
  const file = callFrame.url
    .split('/')
    .slice(-2)
    .join('/')
    .replace(/^dist-cjs\//, '');
  const key = `${callFrame.functionName || '(anonymous)'} | ${where}${file ? ` ${file}:${callFrame.lineNumber + 1}` : ''}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  origins.set(where, (origins.get(where) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
const ms = (us: number) => (us / 1000).toFixed(0);
const top = [...fns].sort((a, b) => b[1] - a[1]).slice(0, topCount);
console.log(`${file}: ${ms(total)} ms sampled${window ? ' in the drain window' : ''}\n`);
console.log('| self ms | share | function | where |\n|---|---|---|---|');
for (const [key, us] of top) {
  const [name, where] = key.split(' | ');
  console.log(`| ${ms(us)} | ${pct(us)} | \`${name}\` | ${where} |`);
}
console.log('\n| self ms | share | package |\n|---|---|---|');
for (const [where, us] of [...origins].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`| ${ms(us)} | ${pct(us)} | ${where} |`);
