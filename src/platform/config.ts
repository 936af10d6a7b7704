/**
 * Reading configuration from the environment, shared by the processor, the agent and the
 * tools: every reader checks its value once and a bad one fails with one line naming the
 * variable and what is allowed. The knobs both programs have (LOG_LEVEL, the SQS endpoint,
 * region and credential policy) are read here, so both refuse the same values.
 */

import { Literal as RtLiteral, String as RtString, Union as RtUnion } from 'runtypes';
import { isLocalEndpoint, isRegionName } from './sqs-target.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(message: string) {
    super(message);
    // One line in a log, not a stack trace through the config loader.
    this.stack = `${this.name}: ${message}`;
  }
}

const IntegerText = RtString.withConstraint((raw) => /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw)));
const HttpUrl = RtString.withConstraint((raw) => {
  try {
    return ['http:', 'https:'].includes(new URL(raw).protocol);
  } catch {
    return false;
  }
});

/** An integer from `min` to `max`; unset or empty means `fallback`. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const checked = IntegerText.withConstraint((text) => Number(text) >= min && Number(text) <= max);
  if (!checked.guard(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`);
  return Number(raw);
}

/** One of `allowed`; unset or empty means `fallback`. */
export function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const allowedValues = RtUnion(...allowed.map((value) => RtLiteral(value as string)));
  if (!allowedValues.guard(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected one of ${allowed.join(', ')}`);
  return raw as T;
}

/** An http(s) URL; unset or empty means undefined. `expected` says what is wanted, in words. */
export function httpUrl(env: Env, name: string, expected = 'an http(s) URL'): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!HttpUrl.guard(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected ${expected}`);
  return raw;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL: a pino level, `info` when unset; anything else is refused. */
export function logLevel(env: Env): LogLevel {
  return oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS);
}

/** Where SQS is and how to sign for it (see createSqsClient in ./sqs.ts). */
export interface SqsConnection {
  /** SQS endpoint; undefined means AWS. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Sign with fixed local credentials (see localCredentialsFor). */
  readonly localCredentials: boolean;
}

const ENDPOINT_URL = 'an http(s) URL such as http://localhost:4566';

/**
 * AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL (LocalStack sets the latter); AWS_REGION, else
 * AWS_DEFAULT_REGION, else us-east-1; and the credential policy (localCredentialsFor).
 */
export function sqsConnection(env: Env): SqsConnection {
  const endpoint = httpUrl(env, 'AWS_ENDPOINT_URL_SQS', ENDPOINT_URL) ?? httpUrl(env, 'AWS_ENDPOINT_URL', ENDPOINT_URL);
  return { endpoint, region: region(env), localCredentials: localCredentialsFor(endpoint, env) };
}

/** AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1; a value that is not a region's name is refused, naming the variable read. */
export function region(env: Env): string {
  const name = env.AWS_REGION ? 'AWS_REGION' : env.AWS_DEFAULT_REGION ? 'AWS_DEFAULT_REGION' : undefined;
  if (name === undefined) return 'us-east-1';
  const value = env[name]!;
  if (!isRegionName(value)) {
    throw new ConfigError(`${name}=${JSON.stringify(value)} is invalid: expected an AWS region such as us-east-1, eu-west-3, us-gov-west-1 or cn-north-1`);
  }
  return value;
}

/** Asks for the fixed local credentials whatever the endpoint's host (a LocalStack or fauxqs on another machine). */
export const LOCAL_CREDENTIALS_VARIABLE = 'TRAFFIC_LOCAL_CREDENTIALS';

/**
 * The credential policy, the same for every program. Fixed local credentials (fauxqs and
 * LocalStack accept any) sign only for an endpoint on this machine or LocalStack's
 * (isLocalEndpoint) when AWS_ACCESS_KEY_ID is not set, or when TRAFFIC_LOCAL_CREDENTIALS=1 asks
 * for them with an endpoint. Any other endpoint (a VPC endpoint, a proxy) gets the SDK's default
 * chain, so a Fargate task role still signs there.
 */
export function localCredentialsFor(endpoint: string | undefined, env: Env): boolean {
  const asked = oneOf(env, LOCAL_CREDENTIALS_VARIABLE, '0', ['0', '1'] as const) === '1';
  if (asked && endpoint === undefined) {
    throw new ConfigError(
      `${LOCAL_CREDENTIALS_VARIABLE}=1 is invalid without an SQS endpoint: AWS needs real credentials; set AWS_ENDPOINT_URL too, or unset ${LOCAL_CREDENTIALS_VARIABLE}`,
    );
  }
  if (asked) return true;
  return endpoint !== undefined && !env.AWS_ACCESS_KEY_ID && isLocalEndpoint(endpoint);
}
