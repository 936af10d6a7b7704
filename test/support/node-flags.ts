/**
 * The Node flags the processor runs with, set once in package.json (`config.nodeFlags`): npm start,
 * the Makefile and the image use them, and so do the tests, the fault suite and the benchmark.
 */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { config: { nodeFlags: string } };

export const PROCESSOR_NODE_FLAGS: readonly string[] = pkg.config.nodeFlags.split(/\s+/).filter(Boolean);
