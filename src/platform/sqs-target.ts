/**
 * Pure checks on where SQS calls go, shared by every program's configuration: whether a region
 * name is one, whether an endpoint is on this machine (or LocalStack's compose network), and
 * whether two queue URLs (or ARNs) name the same queue.
 */

/**
 * The form of every AWS partition's region names (aws, aws-cn, aws-us-gov, the iso partitions,
 * eusc): letters, dash-separated words, a number (us-east-1, us-gov-west-1, cn-north-1,
 * eu-isoe-west-1, eusc-de-east-1). The SDK itself only asks for a host label, so a value such
 * as `../../etc` would reach its endpoint resolution and fail on every call instead of at start.
 */
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

export function isRegionName(text: string): boolean {
  return REGION.test(text);
}

/** LocalStack's names: its compose service, and the public name that resolves to 127.0.0.1 (and, in its Lambda containers, to LocalStack). */
const LOCALSTACK_HOSTS = ['localstack', 'localhost.localstack.cloud'];

/**
 * Whether `endpoint` is on this machine or is LocalStack: loopback addresses (127.0.0.0/8, ::1,
 * ::ffff:127.x), `localhost` and `*.localhost` (RFC 6761: always loopback), LocalStack's
 * names. Only such an endpoint may be signed with fixed local credentials: anything else could
 * be AWS itself behind a VPC endpoint or a proxy, which needs the real ones.
 */
export function isLocalEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    // The WHATWG parser lower-cases the host and normalises IPv4 forms (127.1, 0x7f.0.0.1).
    host = new URL(endpoint).hostname.replace(/\.$/, '');
  } catch {
    return false;
  }
  if (host.startsWith('[')) {
    const v6 = host.slice(1, -1);
    return v6 === '::1' || /^::ffff:(?:127\.\d+\.\d+\.\d+|7f[0-9a-f]{2}:[0-9a-f]{1,4})$/.test(v6);
  }
  if (/^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return LOCALSTACK_HOSTS.some((name) => host === name || host.endsWith(`.${name}`));
}

/** What names a queue: its ARN without the partition (arn:partition:sqs:region:account:name). */
export interface QueueIdentity {
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

/** A region in an SQS host: sqs.R.amazonaws.com, sqs-fips.R…, vpce-….sqs.R.vpce…, R.queue.amazonaws.com, sqs.R.localhost.localstack.cloud. */
const REGION_IN_HOST = /(?:^|\.)(?:sqs(?:-fips)?\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.amazonaws\.com)/;

/**
 * The identity of a queue from its URL or ARN; undefined when it has neither an account nor a
 * name. The host does not count, apart from the region it names: one queue is reached through
 * many hosts (localhost and 127.0.0.1, LocalStack's path and subdomain forms, VPC endpoint
 * names, the legacy queue.amazonaws.com). A host without a region means the client's region.
 */
export function queueIdentity(urlOrArn: string, clientRegion: string): QueueIdentity | undefined {
  const arn = /^arn:[a-z-]+:sqs:([a-z0-9-]*):(\d*):([^:/]+)$/.exec(urlOrArn);
  if (arn) return { region: arn[1] || clientRegion, account: arn[2] ?? '', name: arn[3]! };
  let url: URL;
  try {
    url = new URL(urlOrArn);
  } catch {
    return undefined;
  }
  const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
  const [account, name] = segments.slice(-2);
  if (!account || !name) return undefined;
  const host = url.hostname.toLowerCase();
  const inHost = REGION_IN_HOST.exec(host);
  const hostRegion = inHost?.[1] ?? inHost?.[2];
  // LocalStack's path strategy: /queue/<region>/<account>/<name>.
  const pathRegion = segments.length >= 4 && segments[segments.length - 4] === 'queue' ? segments[segments.length - 3] : undefined;
  const region = [hostRegion, pathRegion].find((r) => r !== undefined && isRegionName(r)) ?? clientRegion;
  return { region, account, name };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Whether two queue URLs (or ARNs) name the same queue for a client in `clientRegion`. */
export function sameQueue(a: string, b: string, clientRegion: string): boolean {
  const left = queueIdentity(a, clientRegion);
  const right = queueIdentity(b, clientRegion);
  if (!left || !right) return false;
  return left.region === right.region && left.account === right.account && left.name === right.name;
}
