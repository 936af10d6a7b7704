/**
 * The Node version guard. Plain JavaScript, so an old Node can run it: npm scripts run it
 * before a TypeScript entry (`node src/platform/require-node.mjs && exec node main.ts`), because
 * Node before 22.18 stops at a .ts entry with ERR_UNKNOWN_FILE_EXTENSION before any of its code
 * runs; the entries import it first too, for a Node that loads .ts but is older than 24.
 * On Node < 24: one line on stderr, exit 1.
 */
import { existsSync } from 'node:fs';

const REQUIRED_MAJOR = 24;

const version = process.versions.node;
if (Number(version.split('.')[0]) < REQUIRED_MAJOR) {
  // The development install brings Node 24 (the `node` package), which npm scripts put first on PATH.
  const projectNode = existsSync(new URL('../../node_modules/node/package.json', import.meta.url));
  const hint = projectNode
    ? "run it through npm (npm start, npm run <script>) or npx node <file>: they use the project's Node 24"
    : 'this install has no project Node (npm ci --omit=dev leaves it out): install Node.js 24, or run npm ci and then npm start';
  process.stderr.write(`traffic: Node.js ${REQUIRED_MAJOR} or newer is needed, this is v${version}; ${hint}\n`);
  process.exit(1);
}
