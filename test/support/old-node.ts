/**
 * The machine's own Node when it is older than 24 (this project's machines ship Node 20): the
 * first `node` on PATH outside node_modules, or undefined when there is none.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface OldNode {
  readonly path: string;
  readonly version: string;
  /** PATH with this Node first and no node_modules/.bin, as a production install's npm sees it. */
  readonly pathEnv: string;
}

export function findOldNode(): OldNode | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !dir.includes('node_modules'));
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const path = join(dir, 'node');
    if (!existsSync(path)) continue;
    const run = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const version = run.stdout?.trim() ?? '';
    if (run.status === 0 && Number(version.split('.')[0]) < 24) return { path, version, pathEnv: [dir, ...dirs.filter((d) => d !== dir)].join(delimiter) };
  }
  return undefined;
}
