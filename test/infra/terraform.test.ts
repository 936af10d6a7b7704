/**
 * Terraform checked against the code without a Terraform binary: the HCL is parsed
 * (@cdktf/hcl2json) and its names, limits, runtime and IAM grants compared with the modules
 * the processor and agent actually use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from '@cdktf/hcl2json';
import { AGENT_ZIP } from '../../scripts/build-agent.ts';
import { loadConfig } from '../../src/processor/config/config.ts';
import { DLQ_RETENTION_SECONDS, MAX_RECEIVE_COUNT, PIPELINE_DLQ_NAME, PIPELINE_QUEUE_NAME, QUEUE_VISIBILITY_TIMEOUT_SECONDS } from '../../src/queues.ts';
import { resolve } from 'node:path';
import { parseVisitBody } from '../../src/contract/visit.ts';
import { visitType } from '../../src/contract/visit-types.ts';
import { createReporter, createStats } from '../../src/processor/runtime/report.ts';
import { startStatsLog } from '../../src/processor/runtime/stats-log.ts';
import { createStorage } from '../../src/processor/storage/index.ts';
import { CreditPool } from '../../machines/credit-pool.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { matchesFilterPattern, selectField } from './log-filter-pattern.ts';

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
const monitoring = await load('terraform/modules/monitoring/main.tf');
/** Lines the processor's own code prints (see processorLines below), for the metric filters. */
const lines = await processorLines();
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
  t.deepEqual([...all].sort(), [...sqsActionsCalledBy('src/processor/sqs/queue.ts')].sort());
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

test('every module and environment requires the AWS provider >= 6.28 (nodejs24.x from 6.19, invoked_via_function_url from 6.28), below 7', (t) => {
  t.true(everything.length >= 9);
  for (const { file, hcl } of everything) {
    t.is(one(one(hcl.terraform).required_providers).aws.version, '>= 6.28, < 7.0', file);
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

// --- The agent's HTTP entry (function URL) --------------------------------------------------

/** An HCL string literal's regex as JavaScript reads it (HCL escapes `\` as `\\`). */
const hclRegex = (condition: string) => new RegExp(JSON.parse(`"${/regex\("((?:[^"\\]|\\.)*)"/.exec(condition)![1]}"`));

test("the agent's function URL is public with CORS limited to the allowed origins: POST, content-type, a max age", (t) => {
  const url = one(agent.resource.aws_lambda_function_url.agent);
  t.is(url.function_name, '${aws_lambda_function.agent.function_name}');
  t.is(url.authorization_type, 'NONE');
  const cors = one(url.cors);
  t.truthy(cors, 'a cors block');
  t.is(cors.allow_origins, '${var.allowed_origins}', 'the origins come from the variable, never "*"');
  t.deepEqual(cors.allow_methods, ['POST'], 'the beacon POSTs; the function URL answers OPTIONS preflights itself');
  t.deepEqual(cors.allow_headers, ['content-type'], 'fetch(keepalive) with a JSON content type preflights for it');
  t.false(cors.allow_credentials);
  t.is(cors.max_age, '${var.cors_max_age_seconds}');
  const maxAge = variableDefault(agent, 'cors_max_age_seconds');
  t.true(maxAge > 0 && maxAge <= 86400, 'the function URL takes 0..86400');
  t.is(one(stack.module.traffic_agent).allowed_origins, '${var.allowed_origins}');
  t.is(one(stack.module.traffic_agent).cors_max_age_seconds, '${var.cors_max_age_seconds}');
});

test('the agent gets the same origins as AGENT_ALLOWED_ORIGINS, comma-separated; the variable refuses what CORS or the list cannot carry', (t) => {
  const environment = one(one(agent.resource.aws_lambda_function.agent).environment).variables;
  t.is(environment.AGENT_ALLOWED_ORIGINS, '${join(",", var.allowed_origins)}');
  const rules = [].concat(one(agent.variable.allowed_origins).validation).map(one) as any[];
  const shape = hclRegex(rules.find((rule) => String(rule.condition).includes('regex(')).condition);
  for (const origin of [...variableDefault(dev, 'allowed_origins'), 'https://www.example.com', 'https://shop.example.com:8443'])
    t.regex(origin, shape, `${origin} is accepted`);
  for (const origin of [
    '*',
    'https://*.example.com',
    'https://example.com/',
    'https://example.com/page',
    'example.com',
    'https://a.com,https://b.com',
    'ftp://example.com',
  ])
    t.notRegex(origin, shape, `${origin} is refused`);
  t.true(
    rules.some((rule) => /length\(var\.allowed_origins\) > 0/.test(rule.condition)),
    'an empty list is refused',
  );
  const tfvars = readFileSync('terraform/environments/prod/terraform.tfvars.example', 'utf8');
  for (const origin of JSON.parse(/^allowed_origins\s*=\s*(\[.*\])$/m.exec(tfvars)![1]!)) t.regex(origin, shape, `the example's ${origin}`);
});

test('the function URL may be invoked by anyone only through the URL: InvokeFunctionUrl for NONE, InvokeFunction via the URL', (t) => {
  const permissions = Object.values<any>(agent.resource.aws_lambda_permission).map(one);
  t.is(permissions.length, 2, 'exactly the two statements a public function URL needs');
  for (const permission of permissions) {
    t.is(permission.function_name, '${aws_lambda_function.agent.function_name}');
    t.is(permission.principal, '*');
    t.falsy(permission.qualifier);
  }
  const url = permissions.find((p) => p.action === 'lambda:InvokeFunctionUrl');
  t.is(url?.function_url_auth_type, 'NONE', 'public only while the URL is NONE');
  const invoke = permissions.find((p) => p.action === 'lambda:InvokeFunction');
  t.is(invoke?.invoked_via_function_url, true, 'without it anyone could invoke the function directly');
  t.is(invoke?.function_url_auth_type, undefined, 'AWS refuses FunctionUrlAuthType on lambda:InvokeFunction');
  t.not(url.statement_id, invoke.statement_id);
  for (const id of [url.statement_id, invoke.statement_id])
    t.false(['FunctionURLAllowPublicAccess', 'FunctionURLAllowInvokeAction'].includes(id), `${id}: not an id the provider adds untracked`);
});

test('the flood cap: reserved concurrency from a variable with a sane default, settable in prod', (t) => {
  t.is(one(agent.resource.aws_lambda_function.agent).reserved_concurrent_executions, '${var.reserved_concurrency}');
  const cap = variableDefault(agent, 'reserved_concurrency');
  t.true(Number.isInteger(cap) && cap >= 10 && cap <= 900, `default ${cap}: room for peaks, leaves the account's 100 unreserved`);
  t.regex(one(one(agent.variable.reserved_concurrency).validation).condition, /var\.reserved_concurrency >= 1/, '0 would stop the agent');
  t.is(one(stack.module.traffic_agent).reserved_concurrency, '${var.agent_reserved_concurrency}');
  t.is(one(prod.module.traffic).agent_reserved_concurrency, '${var.agent_reserved_concurrency}');
  t.is(variableDefault(prod, 'agent_reserved_concurrency'), cap);
});

test('agent_url is an output of dev and prod, the function URL; the existing outputs stay', (t) => {
  t.is(one(agent.output.function_url).value, '${aws_lambda_function_url.agent.function_url}');
  t.is(one(stack.output.agent_url).value, '${module.traffic_agent.function_url}');
  for (const [name, env] of [
    ['dev', dev],
    ['prod', prod],
  ] as const) {
    t.is(one(env.output.agent_url).value, '${module.traffic.agent_url}', name);
    t.is(one(env.output.pipeline).value, '${module.traffic.pipeline}', name);
    t.is(one(env.output.agent_function_name).value, '${module.traffic.agent_function_name}', name);
    t.is(one(env.module.traffic).allowed_origins, '${var.allowed_origins}', name);
  }
  t.truthy(prod.output.processor_service);
  t.truthy(prod.output.processor_cluster);
  t.true(Array.isArray(variableDefault(dev, 'allowed_origins')), 'dev applies with no variables (make)');
  t.is(one(prod.variable.allowed_origins).default, undefined, 'prod names its sites: no default');
});

// --- Monitoring -----------------------------------------------------------------------------

const alarms = Object.entries<any>(monitoring.resource.aws_cloudwatch_metric_alarm).map(([name, alarm]) => ({ name, ...one(alarm) }));
const filters = Object.entries<any>(monitoring.resource.aws_cloudwatch_log_metric_filter).map(([name, filter]) => {
  const f = one(filter);
  return { name, pattern: f.pattern as string, transformation: one(f.metric_transformation), logGroup: f.log_group_name };
});

test('every alarm notifies the topic, on alarm and on recovery; e-mail is optional and off by default', (t) => {
  t.true(alarms.length >= 5);
  for (const alarm of alarms) {
    t.deepEqual(alarm.alarm_actions, ['${aws_sns_topic.alarms.arn}'], `${alarm.name} alarm_actions`);
    t.deepEqual(alarm.ok_actions, ['${aws_sns_topic.alarms.arn}'], `${alarm.name} ok_actions`);
    t.regex(alarm.alarm_name, /^\$\{var\.name_prefix\}-traffic-/, alarm.name);
    t.truthy(alarm.alarm_description, `${alarm.name} says what to look at`);
  }
  const email = one(monitoring.resource.aws_sns_topic_subscription.email);
  t.is(email.count, '${var.alarm_email == null ? 0 : 1}');
  t.is(email.protocol, 'email');
  t.is(email.endpoint, '${var.alarm_email}');
  t.is(email.topic_arn, '${aws_sns_topic.alarms.arn}');
  t.is(variableDefault(monitoring, 'alarm_email'), null);
  t.is(one(prod.module.monitoring).alarm_email, '${var.alarm_email}');
  t.is(variableDefault(prod, 'alarm_email'), null);
});

/** The alarm on this metric, with its dimensions. */
function alarmOn(namespace: string, metric: string) {
  return alarms.find((alarm) => alarm.namespace === namespace && alarm.metric_name === metric);
}

test('alarms: DLQ depth > 0, oldest PIPELINE message over the threshold, agent errors and throttles, processor tasks below the minimum', (t) => {
  const dlq = alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
  t.deepEqual(dlq?.dimensions, { QueueName: '${var.dlq_name}' });
  t.like(dlq, { comparison_operator: 'GreaterThanThreshold', threshold: 0, statistic: 'Maximum', evaluation_periods: 1 });

  const age = alarmOn('AWS/SQS', 'ApproximateAgeOfOldestMessage');
  t.deepEqual(age?.dimensions, { QueueName: '${var.queue_name}' });
  t.like(age, { comparison_operator: 'GreaterThanThreshold', threshold: '${var.oldest_message_age_threshold_seconds}' });
  t.is(one(prod.module.monitoring).oldest_message_age_threshold_seconds, '${var.oldest_message_age_alarm_seconds}');
  t.true(variableDefault(prod, 'oldest_message_age_alarm_seconds') >= 60);

  for (const metric of ['Errors', 'Throttles']) {
    const alarm = alarmOn('AWS/Lambda', metric);
    t.deepEqual(alarm?.dimensions, { FunctionName: '${var.agent_function_name}' }, metric);
    t.like(alarm, { comparison_operator: 'GreaterThanThreshold', threshold: 0, statistic: 'Sum' }, metric);
  }

  const tasks = alarmOn('ECS/ContainerInsights', 'RunningTaskCount');
  t.deepEqual(tasks?.dimensions, { ClusterName: '${var.processor_cluster_name}', ServiceName: '${var.processor_service_name}' });
  t.like(tasks, { comparison_operator: 'LessThanThreshold', threshold: '${var.processor_min_tasks}', statistic: 'Minimum', treat_missing_data: 'breaching' });
});

test('prod wires monitoring to the real queue, DLQ, agent, service, log group and minimum', (t) => {
  const wiring = one(prod.module.monitoring);
  t.is(wiring.source, '../../modules/monitoring');
  t.is(wiring.queue_name, '${module.traffic.pipeline.queue_name}');
  t.is(wiring.dlq_name, '${module.traffic.pipeline.dlq_name}');
  t.is(one(pipeline.output.queue_name).value, '${aws_sqs_queue.pipeline.name}');
  t.is(one(pipeline.output.dlq_name).value, '${aws_sqs_queue.dlq.name}');
  t.is(wiring.agent_function_name, '${module.traffic.agent_function_name}');
  t.is(wiring.processor_cluster_name, '${module.processor_service.cluster_name}');
  t.is(wiring.processor_service_name, '${module.processor_service.service_name}');
  t.is(wiring.processor_log_group_name, '${module.processor_service.log_group_name}');
  t.is(one(service.output.log_group_name).value, '${aws_cloudwatch_log_group.processor.name}');
  t.is(wiring.processor_min_tasks, '${module.processor_service.min_tasks}');
  t.is(one(service.output.min_tasks).value, '${var.min_tasks}');
  t.is(one(prod.module.processor_service).min_tasks, '${var.min_tasks}');
  t.regex(containerDefinitions, /name\s*=\s*"LOG_JSON",\s*value\s*=\s*"1"/, 'the tasks log JSON lines, what the filters read');
  for (const filter of filters) t.is(filter.logGroup, '${var.processor_log_group_name}', filter.name);
});

/** The dashboard body as CloudWatch receives it: the template rendered with the values the module passes. */
function renderDashboard(): { placeholders: string[]; passed: string[]; body: any } {
  const call = String(one(monitoring.resource.aws_cloudwatch_dashboard.traffic).dashboard_body);
  const template = /templatefile\("\$\{path\.module\}\/([^"]+)", \{([^}]*)\}\)/.exec(call);
  if (!template) throw new Error(`dashboard_body is not a templatefile call: ${call}`);
  const passed = [...template[2]!.matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]!);
  const text = readFileSync(`terraform/modules/monitoring/${template[1]}`, 'utf8');
  const placeholders = [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
  t_assertNoDirectives(text);
  const body = JSON.parse(text.replace(/\$\{(\w+)\}/g, (_, name: string) => (name === 'namespace' ? 'Traffic/prod' : `<${name}>`)));
  return { placeholders, passed, body };
}

function t_assertNoDirectives(text: string) {
  if (/%\{|\$\{[^}]*[^\w}][^}]*\}/.test(text)) throw new Error('the dashboard template uses only ${name} placeholders');
}

test('the dashboard JSON parses and shows queue depth and age, DLQ depth, agent invocations/errors/throttles, tasks, visits written and the processor counters', (t) => {
  const { placeholders, passed, body } = renderDashboard();
  t.deepEqual(placeholders.sort(), [...passed].sort(), 'every placeholder is passed, every value used');
  t.is(one(monitoring.locals).namespace, 'Traffic/${var.name_prefix}');
  const rows: any[][] = body.widgets.flatMap((widget: any) => widget.properties.metrics ?? []);
  const shown = (namespace: string, metric: string, ...dimensions: string[]) =>
    rows.some((row) => row[0] === namespace && row[1] === metric && dimensions.every((d) => row.includes(d)));
  t.true(shown('AWS/SQS', 'ApproximateNumberOfMessagesVisible', '<queue_name>'), 'queue depth');
  t.true(shown('AWS/SQS', 'ApproximateAgeOfOldestMessage', '<queue_name>'), 'queue age');
  t.true(shown('AWS/SQS', 'ApproximateNumberOfMessagesVisible', '<dlq_name>'), 'DLQ depth');
  for (const metric of ['Invocations', 'Errors', 'Throttles']) t.true(shown('AWS/Lambda', metric, '<agent_function_name>'), metric);
  t.true(shown('ECS/ContainerInsights', 'RunningTaskCount', '<processor_cluster_name>', '<processor_service_name>'), 'running tasks');
  const expressions = rows.map((row) => row.find((cell: any) => typeof cell === 'object' && cell?.expression)?.expression).filter(Boolean);
  for (const filter of filters) {
    const { name, dimensions } = filter.transformation;
    const dimension = dimensions ? Object.keys(dimensions)[0] : undefined;
    const onDashboard = dimension
      ? expressions.some((e: string) => e.includes(`{Traffic/prod,${dimension}}`) && e.includes(`MetricName="${name}"`))
      : shown('Traffic/prod', name);
    t.true(onDashboard, `${name}${dimension ? ` per ${dimension}` : ''} is on the dashboard`);
    t.is(filter.transformation.namespace, '${local.namespace}', name);
  }
  for (const widget of body.widgets) t.is(widget.properties.region, '<region>', widget.properties.title);
});

// --- Metric filters against the lines the processor prints ---------------------------------

/** Real lines, from the processor's own code: a batch written by each backend, a dead-letter, retries, stats. */
async function processorLines() {
  const { lines, logger } = capturedLogger('info');
  const visit = (body: object) => {
    const parsed = parseVisitBody(JSON.stringify(body), 'message-1');
    if (!parsed.ok) throw new Error(parsed.rejection.message);
    return parsed.visit;
  };
  for (const backend of ['mysql', 'cassandra'] as const) {
    const storage = createStorage(backend, logger);
    const now = Date.now();
    await storage.writeBatch(
      visitType('type-in'),
      [visit({ type: 'type-in', created_at: now, visit_id: 'v1', ip: '192.0.2.1' }), visit({ type: 'direct', created_at: now, visit_id: 'v2' })],
      new AbortController().signal,
    );
    await storage.writeBatch(
      visitType('referrer'),
      [visit({ type: 'referrer', created_at: now, visit_id: 'v3', url: 'test.com' })],
      new AbortController().signal,
    );
  }
  const stats = createStats();
  const report = createReporter(logger, stats);
  // Started before the reports: its counters are per interval, so its first line counts them.
  const stop = startStatsLog({ logger, stats, credits: new CreditPool(10, Date.now), intervalMs: 5 });
  const rejections = ['not json', '{"type":"bogus","created_at":1}'].map((body) => {
    const parsed = parseVisitBody(body, 'message-2');
    if (parsed.ok) throw new Error('expected a rejection');
    return parsed.rejection;
  });
  report({
    kind: 'dead-lettered',
    source: 'poller-1',
    letters: [
      { messageId: 'message-2', reason: rejections[0]!, reasonKept: 'full' },
      { messageId: 'message-3', reason: rejections[1]!, reasonKept: 'trimmed' },
      { messageId: 'message-4', reason: { code: 'write_failed', message: 'row storage kept refusing' }, reasonKept: 'full' },
    ],
  });
  const error = new Error('storage unavailable');
  report({ kind: 'write-failed', type: 'type-in', count: 2, attempt: 1, willRetry: true, delayMs: 100, error });
  report({ kind: 'write-failed', type: 'referrer', count: 1, attempt: 1, willRetry: true, delayMs: 100, error });
  report({ kind: 'write-failed', type: 'referrer', count: 1, attempt: 6, willRetry: false, delayMs: 0, error });
  report({ kind: 'receive-failed', poller: 'poller-1', attempt: 2, delayMs: 200, error });
  report({ kind: 'written', type: 'type-in', count: 2, attempts: 1, createdAt: [Date.now(), Date.now()] });
  report({ kind: 'written', type: 'referrer', count: 1, attempts: 1, createdAt: [Date.now()] });
  while (!lines.some((line) => line.msg === 'stats')) await new Promise((done) => setTimeout(done, 5));
  stop();
  return lines;
}

const filterFor = (metric: string) => filters.find((f) => f.transformation.name === metric)!;
const countedBy = (metric: string) => lines.filter((line) => matchesFilterPattern(filterFor(metric).pattern, line));
/** The value of `dimension` that each line `metric` counts is counted under. */
const countedPer = (metric: string, dimension: string) =>
  countedBy(metric).map((line) => selectField(filterFor(metric).transformation.dimensions[dimension], line));

test('VisitsWrittenByTable adds up the rows of each `write` line, per table of the visit type, for both backends', (t) => {
  const counted = countedBy('VisitsWrittenByTable');
  t.is(counted.length, 4, 'two batches per backend');
  t.deepEqual(
    counted,
    lines.filter((line) => line.msg === 'write'),
    'only the write lines',
  );
  const { value } = filterFor('VisitsWrittenByTable').transformation;
  t.deepEqual(
    counted.map((line) => selectField(value, line)),
    counted.map((line) => (line.rows as unknown[]).length),
    'each line counts its rows',
  );
  t.deepEqual(countedPer('VisitsWrittenByTable', 'Table'), ['traffic_type_in', 'traffic_referrer', 'traffic_type_in', 'traffic_referrer']);
  t.deepEqual(
    counted.map((line) => line.backend),
    ['mysql', 'mysql', 'cassandra', 'cassandra'],
  );
});

test('VisitsWritten adds up the visits of each `stats` line', (t) => {
  const counted = countedBy('VisitsWritten');
  t.is(counted.length, lines.filter((line) => line.msg === 'stats').length);
  t.true(counted.length >= 1);
  const { value } = filterFor('VisitsWritten').transformation;
  t.is(selectField(value, counted[0]), 3, 'the three visits reported written');
  t.is(typeof selectField(value, counted[0]), 'number', 'a metric value must be a number');
});

test('DeadLettered counts each dead-letter line, per reason code; nothing else', (t) => {
  const counted = countedBy('DeadLettered');
  t.is(filterFor('DeadLettered').transformation.value, '1');
  t.deepEqual(countedPer('DeadLettered', 'Reason'), ['malformed_json', 'invalid_type', 'write_failed']);
  t.is(counted.length, lines.filter((line) => String(line.msg).includes('sent to DLQ')).length);
});

test('WriteRetries counts each retried write per type, not the exhausted one nor receive retries', (t) => {
  t.is(filterFor('WriteRetries').transformation.value, '1');
  t.deepEqual(countedPer('WriteRetries', 'Type'), ['type-in', 'referrer']);
  t.true(lines.some((line) => line.msg === 'write failed, retries exhausted'));
  t.true(lines.some((line) => line.msg === 'receive failed, backing off'));
});

test('each metric filter pattern names the fields its value and dimensions read', (t) => {
  for (const filter of filters) {
    const fields = [filter.transformation.value, ...Object.values<string>(filter.transformation.dimensions ?? {})].filter((f) => f.startsWith('$.'));
    for (const field of fields) t.true(filter.pattern.includes(`${field} `), `${filter.name}: ${field} is in its pattern`);
  }
  t.throws(() => matchesFilterPattern('{ ($.a = 1) }', {}), { message: /parentheses/ }, 'the matcher refuses what it cannot read');
  t.false(matchesFilterPattern('{ $.msg = "write" }', { msg: 'writes' }));
  t.true(matchesFilterPattern('{ $.msg = "wri*" }', { msg: 'writes' }));
});

// --- The first deploy: every variable named ------------------------------------------------

test('terraform.tfvars.example names every prod variable, each under a comment, optional ones at their defaults', async (t) => {
  const path = 'terraform/environments/prod/terraform.tfvars.example';
  const text = readFileSync(path, 'utf8');
  const example = await parse(path, text);
  const variables = Object.keys(prod.variable);
  t.deepEqual(Object.keys(example).sort(), [...variables].sort());
  const lines = text.split('\n');
  for (const name of variables) {
    const at = lines.findIndex((line) => line.startsWith(`${name} `));
    t.regex(lines[at - 1] ?? '', /^#/, `${name} has a comment`);
    const variable = one(prod.variable[name]);
    if ('default' in variable && name !== 'region') t.deepEqual(example[name], variable.default, `${name} shows its default`);
  }
});

test('the deploy steps pass the region explicitly, name every prod variable, every alarm and every filter pattern', (t) => {
  const docs = readFileSync('docs/operations.md', 'utf8');
  const deploy = docs.slice(docs.indexOf('## Deploy to AWS'), docs.indexOf('\n## ', docs.indexOf('## Deploy to AWS') + 3));
  t.regex(deploy, /^\s*terraform apply\b[^\n]*-var "region=\$AWS_REGION"/m, 'the apply command itself names the region');
  t.regex(deploy, /^\s*terraform init\b[^\n]*-backend-config="region=\$AWS_REGION"/m, 'the state bucket in the same region');
  t.regex(deploy, /^\s*aws ecr [^\n]*--region "\$AWS_REGION"/m, 'the image in the same region');
  t.regex(deploy, /terraform\.tfvars\.example/);
  for (const name of Object.keys(prod.variable)) t.regex(deploy, new RegExp(`\`${name}\``), name);
  t.regex(deploy, /agent_url/);
  for (const filter of filters) t.true(deploy.includes(`\`${filter.pattern}\``), `the docs show ${filter.transformation.name}'s pattern as deployed`);
  for (const alarm of alarms) t.true(deploy.includes(`\`${alarm.alarm_name.replace('${var.name_prefix}', 'prod')}\``), `the docs list ${alarm.name}`);
});
