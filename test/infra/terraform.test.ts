/**
 * Terraform checked against the code without a Terraform binary: the HCL is parsed
 * (@cdktf/hcl2json) and its names, limits, runtime and IAM grants compared with the modules
 * the processor and agent actually use.
 */
import { readdirSync, readFileSync } from 'node:fs';
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
const endpoints = await load('terraform/modules/vpc-endpoints/main.tf');
/** Every Terraform file in the repository, parsed. */
const allFiles = readdirSync('terraform', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.tf'))
  .map((f) => `terraform/${f}`);
const everything = await Promise.all(allFiles.map(async (file) => ({ file, hcl: await load(file) })));

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

test("the DLQ holds any message the PIPELINE accepts: both at SQS's 1 MiB maximum", (t) => {
  const dlq = one(pipeline.resource.aws_sqs_queue.dlq);
  const queue = one(pipeline.resource.aws_sqs_queue.pipeline);
  t.is(dlq.max_message_size, 1048576);
  t.is(queue.max_message_size, 1048576);
});

test('SQS-managed encryption is on for every queue', (t) => {
  const queues = [...Object.values(pipeline.resource.aws_sqs_queue), ...Object.values(agent.resource.aws_sqs_queue)].map(one);
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
    t.false(
      s.actions.some((a) => a.includes('*')),
      'no wildcard actions',
    );
    t.false(
      s.resources.some((r) => r.includes('*')),
      'no wildcard resources',
    );
  }
});

test('the agent may only send to the PIPELINE (and its own DLQ), plus its logs', (t) => {
  const granted = statements(agent, 'agent');
  const sqs = granted.filter((s) => s.actions.some((a) => a.startsWith('sqs:')));
  t.deepEqual([...new Set(sqs.flatMap((s) => s.actions))], [...sqsActionsCalledBy('src/agent/sqs-sender.ts')]);
  t.deepEqual(sqs.flatMap((s) => s.resources).sort(), ['${aws_sqs_queue.agent_dlq.arn}', '${var.queue_arn}']);
  const logs = granted.filter((s) => s.actions.some((a) => a.startsWith('logs:')));
  t.deepEqual(logs.flatMap((s) => s.actions).sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
  t.deepEqual(
    logs.flatMap((s) => s.resources),
    ['${aws_cloudwatch_log_group.agent.arn}:*'],
    'its own log group only',
  );
});

test('dev and prod deploy the same stack; the stack wires the agent and the processor policy to the pipeline', (t) => {
  t.is(one(dev.module.traffic).source, '../../modules/traffic');
  t.is(one(prod.module.traffic).source, '../../modules/traffic');
  t.is(one(stack.module.traffic_agent).queue_arn, '${module.pipeline.queue_arn}');
  t.is(one(stack.module.processor_iam).queue_arn, '${module.pipeline.queue_arn}');
  t.is(one(stack.module.processor_iam).dlq_arn, '${module.pipeline.dlq_arn}');
  t.is(one(prod.module.processor_service).processor_policy_arn, '${module.traffic.processor_policy_arn}');
});

test('dev targets LocalStack, prod scales the processor on backlog per task', (t) => {
  const provider = one(dev.provider.aws);
  t.true(provider.skip_credentials_validation);
  t.is(one(provider.endpoints).sqs, '${var.localstack_endpoint}');
  const policy = one(service.resource.aws_appautoscaling_policy.backlog_per_task);
  t.is(policy.policy_type, 'TargetTrackingScaling');
  const metrics = [].concat(one(one(policy.target_tracking_scaling_policy_configuration).customized_metric_specification).metrics);
  t.true(metrics.some((m: any) => String(m.expression).includes('visible / ')));
});

test('every module and environment requires the AWS provider >= 6.19 (nodejs24.x), below 7', (t) => {
  t.true(everything.length >= 8);
  for (const { file, hcl } of everything) {
    t.is(one(one(hcl.terraform).required_providers).aws.version, '>= 6.19, < 7.0', file);
  }
});

test('prod scale-out has data: the cluster publishes the Container Insights metric the policy divides by', (t) => {
  const policy = one(service.resource.aws_appautoscaling_policy.backlog_per_task);
  const metrics = [].concat(one(one(policy.target_tracking_scaling_policy_configuration).customized_metric_specification).metrics).map(one);
  const tasks = metrics.find((m: any) => m.id === 'tasks');
  const metric = one(one(tasks.metric_stat).metric);
  t.is(metric.namespace, 'ECS/ContainerInsights');
  t.is(metric.metric_name, 'RunningTaskCount');
  const cluster = one(service.resource.aws_ecs_cluster.traffic);
  const settings = [].concat(cluster.setting ?? []).map(one);
  const insights = settings.find((setting: any) => setting.name === 'containerInsights');
  t.truthy(insights, 'containerInsights is set on the cluster');
  t.true(['enabled', 'enhanced'].includes(insights.value), `containerInsights = ${insights?.value}`);
  const dimensions = [].concat(metric.dimensions).map(one);
  t.deepEqual(
    dimensions.map((d: any) => d.value),
    ['${aws_ecs_cluster.traffic.name}', '${aws_ecs_service.processor.name}'],
  );
});

/** The task definition's container_definitions expression, comments dropped. */
const containerDefinitions = String(one(service.resource.aws_ecs_task_definition.processor).container_definitions).replace(/#.*$/gm, '');

test('the task definition names its platform: Linux on the architecture the image was built for', (t) => {
  const platform = one(one(service.resource.aws_ecs_task_definition.processor).runtime_platform);
  t.is(platform.operating_system_family, 'LINUX');
  t.is(platform.cpu_architecture, '${var.cpu_architecture}');
  const variable = one(service.variable.cpu_architecture);
  t.is(variable.default, 'X86_64');
  t.regex(one(variable.validation).condition, /contains\(\["X86_64", "ARM64"\], var\.cpu_architecture\)/);
  t.is(one(prod.module.processor_service).cpu_architecture, '${var.cpu_architecture}');
});

test('the container checks /healthz with the image HEALTHCHECK command and starts with the image CMD', (t) => {
  const dockerHealthcheck = /^HEALTHCHECK[^\n]*(?:\\\n[^\n]*)*?CMD\s+(\[.*\])/m.exec(readFileSync('Dockerfile', 'utf8'));
  t.truthy(dockerHealthcheck);
  const healthCheck = /healthCheck\s*=\s*\{([^}]*)\}/.exec(containerDefinitions);
  t.truthy(healthCheck, 'a container healthCheck');
  const command = /command\s*=\s*(\[[^\]]*\])/.exec(healthCheck![1]);
  t.deepEqual(JSON.parse(command![1]), ['CMD', ...JSON.parse(dockerHealthcheck![1])]);
  for (const field of ['interval', 'timeout', 'retries', 'startPeriod']) t.regex(healthCheck![1], new RegExp(`\\b${field}\\s*=\\s*\\d+`), field);
  t.regex(containerDefinitions, /name\s*=\s*"METRICS_PORT",\s*value\s*=\s*"9464"/, 'the port the check asks');
  t.notRegex(containerDefinitions.replace(healthCheck![0], ''), /\bcommand\s*=/, "no command override: the image's CMD");
});

test('the service waits for its IAM role attachments', (t) => {
  const dependsOn: string[] = one(service.resource.aws_ecs_service.processor).depends_on ?? [];
  const attachments = Object.keys(service.resource.aws_iam_role_policy_attachment).map((name) => `\${aws_iam_role_policy_attachment.${name}}`);
  t.true(attachments.length >= 2);
  t.deepEqual([...dependsOn].sort(), attachments.sort());
});

test('every trust policy allows its service only for this account (aws:SourceAccount)', (t) => {
  let trustPolicies = 0;
  for (const { file, hcl } of everything) {
    for (const [name, documents] of Object.entries<any>(hcl.data?.aws_iam_policy_document ?? {})) {
      for (const statement of [].concat(one(documents).statement).map(one) as any[]) {
        if (!statement.actions.includes('sts:AssumeRole')) continue;
        trustPolicies++;
        const conditions = [].concat(statement.condition ?? []).map(one) as any[];
        const account = conditions.find((c) => c.variable === 'aws:SourceAccount');
        t.truthy(account, `${file} ${name}`);
        t.is(account?.test, 'StringEquals');
        t.deepEqual(account?.values, ['${data.aws_caller_identity.current.account_id}']);
        t.truthy(hcl.data.aws_caller_identity?.current, `${file} reads the account id`);
      }
    }
  }
  t.is(trustPolicies, 2, 'the ECS tasks trust policy and the Lambda one');
});

test('private subnets can reach ECR, S3, CloudWatch Logs and SQS: optional VPC endpoints, documented', (t) => {
  const interfaces = one(endpoints.resource.aws_vpc_endpoint.interface);
  t.is(interfaces.vpc_endpoint_type, 'Interface');
  t.true(interfaces.private_dns_enabled, 'the default AWS hostnames resolve to the endpoints');
  t.regex(interfaces.service_name, /^com\.amazonaws\.\$\{data\.aws_region\.current\.region\}\.\$\{each\.value\}$/);
  t.regex(endpoints.locals[0].interface_services, /toset\(\["ecr\.api", "ecr\.dkr", "logs", "sqs"\]\)/);
  const s3 = one(endpoints.resource.aws_vpc_endpoint.s3);
  t.is(s3.vpc_endpoint_type, 'Gateway');
  t.regex(s3.service_name, /\.s3$/);
  t.is(s3.route_table_ids, '${var.route_table_ids}');
  const ingress = one(endpoints.resource.aws_vpc_security_group_ingress_rule.https_from_tasks);
  t.is(ingress.from_port, 443);
  t.is(ingress.referenced_security_group_id, '${each.value}');

  const module = one(prod.module.vpc_endpoints);
  t.is(module.source, '../../modules/vpc-endpoints');
  t.is(module.count, '${var.create_vpc_endpoints ? 1 : 0}');
  t.is(module.client_security_group_ids, '${var.security_group_ids}');
  t.is(module.subnet_ids, '${var.subnet_ids}');
  const flag = one(prod.variable.create_vpc_endpoints);
  t.is(flag.default, false, 'off by default: NAT gateways need none');
  t.regex(flag.description, /ECR.*Logs.*SQS.*S3/);
  t.regex(one(prod.variable.subnet_ids).description, /NAT gateway.*create_vpc_endpoints/);
  t.regex(one(one(prod.variable.vpc_id).validation).condition, /!var\.create_vpc_endpoints \|\| var\.vpc_id != null/);
  t.regex(readFileSync('docs/operations.md', 'utf8'), /create_vpc_endpoints/, 'the deploy steps (docs/operations.md) explain when to turn it on');
});
