/** The real processor as a child process against a test endpoint: its environment, its exit and stderr. */
import type { ChildProcess } from 'node:child_process';
import type { TestEndpoint } from './sqs.ts';

/** What a shell may hold from other work that would point a child elsewhere: queues, endpoints, credentials, ports, log format. */
const PIPELINE_SETTINGS = /^(TRAFFIC_|AWS_|EMBEDDED_|METRICS_PORT|LOG_)/;

/** This process's environment without those settings, nor any variable `alsoDrop` matches. */
export function envWithoutPipelineSettings(alsoDrop?: RegExp): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (PIPELINE_SETTINGS.test(key) || alsoDrop?.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/** What points the processor at a test endpoint's PIPELINE and DLQ, signed with the fixed test credentials. */
export function endpointEnv(sqs: Pick<TestEndpoint, 'endpoint' | 'queueUrl' | 'dlqUrl'>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: sqs.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    TRAFFIC_QUEUE_URL: sqs.queueUrl,
    TRAFFIC_DLQ_URL: sqs.dlqUrl,
  };
}

/** A child's exit code once it exits, and what it has written to stderr so far (for failure messages). */
export function watchExit(child: ChildProcess): { exited: Promise<number | null>; stderr: () => string } {
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exited, stderr: () => stderr };
}
