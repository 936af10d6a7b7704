/**
 * `npm run build:agent`: bundles the Traffic Agent into dist/traffic-agent.zip, the package
 * Terraform deploys with handler `index.handler` on runtime nodejs24.x.
 *
 * - One CommonJS file, `index.js`: pino and the AWS SDK are CommonJS inside, and an ESM bundle
 *   of them needs a createRequire shim; nodejs24.x loads CommonJS natively.
 * - The AWS SDK is bundled, not left to the runtime's copy: the function runs the exact
 *   version the lock file pins and the tests ran, minified and tree-shaken to SQS alone, and
 *   one file loads faster at cold start than the runtime's node_modules tree.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { createZip } from './zip.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const AGENT_ENTRY = join(ROOT, 'src/agent/handler.ts');
export const AGENT_ZIP = join(ROOT, 'dist/traffic-agent.zip');
/** Terraform's `handler`: file `index.js`, export `handler`. */
export const AGENT_HANDLER = 'index.handler';

export interface AgentBuild {
  readonly zipPath: string;
  readonly bundleBytes: number;
  readonly zipBytes: number;
  /** The bundle itself, for callers that load it (tests). */
  readonly code: string;
}

/** How a Lambda handler is bundled: one CommonJS file for nodejs24.x. */
export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  // Error and class names stay readable in CloudWatch.
  keepNames: true,
  legalComments: 'eof',
} as const satisfies BuildOptions;

export async function buildAgent(zipPath: string = AGENT_ZIP): Promise<AgentBuild> {
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    entryPoints: [AGENT_ENTRY],
    write: false,
    outfile: 'index.js',
    logLevel: 'warning',
  });
  const output = result.outputFiles.find((file) => file.path.endsWith('index.js'));
  if (!output) throw new Error('esbuild produced no index.js');
  const zip = createZip([{ name: 'index.js', data: output.contents }]);
  mkdirSync(dirname(zipPath), { recursive: true });
  writeFileSync(zipPath, zip);
  return { zipPath, bundleBytes: output.contents.length, zipBytes: zip.length, code: output.text };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (import.meta.main) {
  try {
    const built = await buildAgent(process.argv[2] ? resolve(process.argv[2]) : AGENT_ZIP);
    process.stdout.write(
      `${relative(process.cwd(), built.zipPath) || built.zipPath}: ${kib(built.zipBytes)} (index.js ${kib(built.bundleBytes)}), ` +
        `handler ${AGENT_HANDLER}, runtime nodejs24.x\n`,
    );
  } catch (error) {
    process.stderr.write(`build:agent: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
