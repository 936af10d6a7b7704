/** Child processes of the tests: what they printed and how they ended. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a child spawned with piped stdout and stderr printed, once it has closed them and exited. */
export function outcomeOf(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs one of the project's scripts with `args` (and `env` over the test's), as `npm run` would. */
export function runScript(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  return outcomeOf(spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}
