/**
 * Names and attributes of the PIPELINE and its DLQ, shared by the embedded default,
 * the agent's local invoke, the tests and (checked against) Terraform.
 */
export const PIPELINE_QUEUE_NAME = 'dev-traffic-queue';
export const PIPELINE_DLQ_NAME = 'dev-traffic-queue-dlq';
/** Receives before SQS moves a message to the DLQ (redrive policy). */
export const MAX_RECEIVE_COUNT = 5;
/** Queue visibility timeout; the processor extends leases every third of it. */
export const QUEUE_VISIBILITY_TIMEOUT_SECONDS = 30;
/** DLQ retention: the longest SQS allows, so rejected traffic can be inspected and redriven. */
export const DLQ_RETENTION_SECONDS = 1_209_600;
/** Where `npm start` serves its embedded SQS endpoint. */
export const EMBEDDED_HOST = '127.0.0.1';
export const EMBEDDED_PORT = 4566;
