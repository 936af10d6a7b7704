/**
 * The embedded default: an SQS-compatible endpoint (fauxqs) in this process,
 * with the PIPELINE and its DLQ created, so `npm start` needs no Docker and no AWS account.
 */
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import {
  DLQ_RETENTION_SECONDS,
  EMBEDDED_HOST,
  MAX_RECEIVE_COUNT,
  PIPELINE_DLQ_NAME,
  PIPELINE_QUEUE_NAME,
  QUEUE_VISIBILITY_TIMEOUT_SECONDS,
} from '../../queues.ts';
import { localSqsClient } from '../../platform/sqs.ts';

export interface EmbeddedEndpoint {
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** Starts fauxqs on 127.0.0.1:`port` (0 for any free port) and creates the queues. */
export async function startEmbeddedEndpoint(port: number): Promise<EmbeddedEndpoint> {
  let server: Awaited<ReturnType<typeof startFauxqs>>;
  try {
    server = await startFauxqs({ port, logger: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(
        `port ${port} is in use (LocalStack or another 'npm start'?): stop it, set EMBEDDED_SQS_PORT to a free port, or set AWS_ENDPOINT_URL and TRAFFIC_QUEUE_URL to use that endpoint`,
      );
    }
    throw error;
  }
  const endpoint = `http://${EMBEDDED_HOST}:${server.port}`;
  try {
    const queues = await createPipelineQueues(endpoint);
    return { endpoint, ...queues, stop: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Creates (idempotently) the PIPELINE with a redrive policy to its DLQ on any SQS endpoint. */
export async function createPipelineQueues(
  endpoint: string,
  names: { queue: string; dlq: string } = { queue: PIPELINE_QUEUE_NAME, dlq: PIPELINE_DLQ_NAME },
  options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {},
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const sqs = localSqsClient(endpoint);
  try {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: names.dlq, Attributes: { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) } }));
    const dlqUrl = dlq.QueueUrl!;
    const dlqAttributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: names.queue,
        Attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? QUEUE_VISIBILITY_TIMEOUT_SECONDS),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqAttributes.Attributes!.QueueArn,
            maxReceiveCount: options.maxReceiveCount ?? MAX_RECEIVE_COUNT,
          }),
        },
      }),
    );
    return { queueUrl: queue.QueueUrl!, dlqUrl };
  } finally {
    sqs.destroy();
  }
}
