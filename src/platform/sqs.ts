/**
 * The one way to build an SQS client: region, optional endpoint, and the credential policy
 * decided by sqsConnection (./config.ts). Everything else (timeouts, keep-alive, retries)
 * is passed through as SDK options by the caller that needs it.
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { SqsConnection } from './config.ts';

/** Fixed credentials for local endpoints (fauxqs and LocalStack accept any). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export function createSqsClient(connection: SqsConnection, sdkOptions: Omit<SQSClientConfig, 'region' | 'endpoint' | 'credentials'> = {}): SQSClient {
  return new SQSClient({
    ...sdkOptions,
    region: connection.region,
    ...(connection.endpoint !== undefined ? { endpoint: connection.endpoint } : {}),
    ...(connection.localCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
  });
}

/** A client for a local endpoint (the embedded one, fauxqs in tests and tools). */
export function localSqsClient(endpoint: string, sdkOptions: Omit<SQSClientConfig, 'region' | 'endpoint' | 'credentials'> = {}): SQSClient {
  return createSqsClient({ endpoint, region: 'us-east-1', localCredentials: true }, sdkOptions);
}
