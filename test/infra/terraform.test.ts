/**
 * Terraform checked against the code without a Terraform binary: the HCL is parsed
 * (@cdktf/hcl2json) and its names, limits, runtime and IAM grants compared with the modules
 * the processor and agent actually use.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from '@cdktf/hcl2json';
import { AGENT_ZIP } from '../../scripts/build-agent.ts';
import { loadConfig } from '../../src/processor/config.ts';
import { DLQ_RETENTION_SECONDS, MAX_RECEIVE_COUNT, PIPELINE_DLQ_NAME, PIPELINE_QUEUE_NAME, QUEUE_VISIBILITY_TIMEOUT_SECONDS } from '../../src/queues.ts';
import { resolve } from 'node:path';

type Hcl = Record<string, any>;
const load = async (path: string): Promise<Hcl> => parse(path, readFileSync(path, 'utf8'));
const one = (block: any) => (Array.isArray(block) ? block[0] : block);
const variableDefault = (hcl: Hcl, name: string) => one(hcl.variable[name]).default;

const pipeline = await load('terraform/modules/pipeline/main.tf');
const agent = await load('terraform/modules/traffic-agent/main.tf');
const processorIam = await load('terraform/modules/processor-iam/main.tf');
const dev = await load('terraform/environments/dev/main.tf');
const prod = await load('terraform/environments/prod/main.tf');
const service = await load('terraform/modules/processor-service/main.tf');
const stack = await load('terraform/modules/traffic/main.tf');

/** `${var.name_prefix}-x` with the dev prefix. */
const devName = (template: string) => template.replace('${var.name_prefix}', one(dev.module.traffic).name_prefix);

test('queue and DLQ names match what the processor and agent use', (t) => {
  t.is(devName(one(pipeline.resource.aws_sqs_queue.pipeline).name), PIPELINE_QUEUE_NAME);
  t.is(devName(one(pipeline.resource.aws_sqs_queue.dlq).name), PIPELINE_DLQ_NAME);
  t.is(one(prod.module.processor_service).queue_name, one(pipeline.resource.aws_sqs_queue.pipeline).name.replace('${var.name_prefix}', 'prod'));
});

test('maxReceiveCount and the visibility timeout agree with the code', (t) => {
  t.is(variableDefault(pipeline, 'max_receive_count'), MAX_RECEIVE_COUNT);
  const policy = one(pipeline.resource.aws_sqs_queue_redrive_policy.pipeline).redrive_policy as string;
  t.regex(policy, /maxReceiveCount\s*=\s*var\.max_receive_count/, 'an integer from a number variable, not a string');
  t.is(one(pipeline.variable.max_receive_count).type, '${number}');
  const visibility = variableDefault(pipeline, 'visibility_timeout_seconds');
  t.is(visibility, QUEUE_VISIBILITY_TIMEOUT_SECONDS);
  const config = loadConfig({});
  t.is(config.visibilityTimeoutSeconds, visibility, 'the processor extends leases to the queue timeout');
  t.true(config.heartbeatSeconds < visibility, 'heartbeat below the visibility timeout');
  t.true(config.writeTimeoutMs / 1000 < visibility, 'one write fits in a lease even before its first extension');
  t.is(variableDefault(pipeline, 'dlq_retention_seconds'), DLQ_RETENTION_SECONDS);
});

test('redrive allow policy lets only the PIPELINE dead-letter into the DLQ', (t) => {
  const allow = one(pipeline.resource.aws_sqs_queue_redrive_allow_policy.dlq).redrive_allow_policy as string;
  t.regex(allow, /redrivePermission\s*=\s*"byQueue"/);
  t.regex(allow, /sourceQueueArns\s*=\s*\[aws_sqs_queue\.pipeline\.arn\]/);
});

test('SQS-managed encryption is on for every queue', (t) => {
  const queues = [
    ...Object.values(pipeline.resource.aws_sqs_queue),
    ...Object.values(agent.resource.aws_sqs_queue),
  ].map(one);
  t.true(queues.length >= 3);
  for (const queue of queues) t.true(queue.sqs_managed_sse_enabled, queue.name);
});

test('the Lambda matches the build: runtime, handler, zip path', (t) => {
  const lambda = one(agent.resource.aws_lambda_function.agent);
  t.is(lambda.runtime, 'nodejs24.x');
  t.is(lambda.handler, 'index.handler');
  t.is(lambda.filename, '${var.zip_path}');
  t.truthy(one(lambda.dead_letter_config).target_arn, 'failed async invokes are kept');
  t.is(one(lambda.environment).variables.TRAFFIC_QUEUE_URL, '${var.queue_url}');
  for (const env of [dev, prod]) {
    const zip = variableDefault(env, 'agent_zip');
    t.is(resolve('terraform/environments/dev', zip), AGENT_ZIP, 'zip path relative to the environment');
  }
});

function statements(hcl: Hcl, name: string): Array<{ actions: string[]; resources: string[] }> {
  return [].concat(one(hcl.data.aws_iam_policy_document[name]).statement).map((s: any) => ({ actions: s.actions, resources: s.resources }));
}

/** The SQS API calls a source file makes, as IAM actions (batch calls use the singular action). */
function sqsActionsCalledBy(file: string): Set<string> {
  const calls = [...readFileSync(file, 'utf8').matchAll(/new (\w+)Command\(/g)].map((m) => m[1]);
  return new Set(calls.map((call) => `sqs:${call.replace(/Batch$/, '')}`));
}

test('the processor policy grants exactly the SQS actions the processor calls, on the right queues', (t) => {
  const granted = statements(processorIam, 'processor');
  const all = new Set(granted.flatMap((s) => s.actions));
  t.deepEqual([...all].sort(), [...sqsActionsCalledBy('src/processor/sqs-queue.ts')].sort());
  const onPipeline = granted.filter((s) => s.resources.includes('${var.queue_arn}')).flatMap((s) => s.actions);
  const onDlq = granted.filter((s) => s.resources.includes('${var.dlq_arn}')).flatMap((s) => s.actions);
  t.deepEqual(onPipeline.sort(), ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
  t.deepEqual(onDlq.sort(), ['sqs:GetQueueUrl', 'sqs:SendMessage']);
  for (const s of granted) {
    t.false(s.actions.some((a) => a.includes('*')), 'no wildcard actions');
    t.false(s.resources.some((r) => r.includes('*')), 'no wildcard resources');
  }
});

test('the agent may only send to the PIPELINE (and its own DLQ), plus its logs', (t) => {
  const granted = statements(agent, 'agent');
  const sqs = granted.filter((s) => s.actions.some((a) => a.startsWith('sqs:')));
  t.deepEqual([...new Set(sqs.flatMap((s) => s.actions))], [...sqsActionsCalledBy('src/agent/sqs-sender.ts')]);
  t.deepEqual(sqs.flatMap((s) => s.resources).sort(), ['${aws_sqs_queue.agent_dlq.arn}', '${var.queue_arn}']);
  const logs = granted.filter((s) => s.actions.some((a) => a.startsWith('logs:')));
  t.deepEqual(logs.flatMap((s) => s.actions).sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
  t.deepEqual(logs.flatMap((s) => s.resources), ['${aws_cloudwatch_log_group.agent.arn}:*'], 'its own log group only');
});

test('dev and prod deploy the same stack; the stack wires the agent and the processor policy to the pipeline', (t) => {
  t.is(one(dev.module.traffic).source, '../../modules/traffic');
  t.is(one(prod.module.traffic).source, '../../modules/traffic');
  t.is(one(stack.module.traffic_agent).queue_arn, '${module.pipeline.queue_arn}');
  t.is(one(stack.module.processor_iam).queue_arn, '${module.pipeline.queue_arn}');
  t.is(one(stack.module.processor_iam).dlq_arn, '${module.pipeline.dlq_arn}');
  t.is(one(prod.module.processor_service).processor_policy_arn, '${module.traffic.processor_policy_arn}');
});

test('providers are pinned to AWS v6; dev targets LocalStack, prod scales the processor on backlog per task', (t) => {
  for (const hcl of [pipeline, agent, processorIam, service, stack, dev, prod]) {
    t.is(one(one(hcl.terraform).required_providers).aws.version, '~> 6.0');
  }
  const provider = one(dev.provider.aws);
  t.true(provider.skip_credentials_validation);
  t.is(one(provider.endpoints).sqs, '${var.localstack_endpoint}');
  const policy = one(service.resource.aws_appautoscaling_policy.backlog_per_task);
  t.is(policy.policy_type, 'TargetTrackingScaling');
  const metrics = [].concat(one(one(policy.target_tracking_scaling_policy_configuration).customized_metric_specification).metrics);
  t.true(metrics.some((m: any) => String(m.expression).includes('visible / ')));
});


