/** A stand-in for the Lambda context when the handler runs on this machine. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** Lambda's default function timeout; the agent keeps a margin of it for its answer. */
const DEFAULT_TIMEOUT_MS = 3_000;

export function localContext(timeoutMs = DEFAULT_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const notAvailable = () => {
    throw new Error('not available in a local invoke');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'traffic-agent-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:traffic-agent-local',
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/traffic-agent-local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notAvailable,
    fail: notAvailable,
    succeed: notAvailable,
  };
}
