/**
 * Lambda events as the platform sends them, trimmed to the fields that matter (names as in AWS's
 * samples): a direct invoke, API Gateway REST (payload 1.0) and HTTP API (payload 2.0). The load
 * generator and the agent's tests build their events with these.
 */

type Params = Record<string, string>;

export interface RequestOptions {
  readonly sourceIp?: string;
  readonly headers?: Record<string, string>;
  /** The request id API Gateway stamps (default: a fixed sample id). */
  readonly requestId?: string;
  /** When the request arrived, epoch ms (default: a fixed sample time). */
  readonly time?: number;
}

const SAMPLE_REQUEST_ID = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef';
const SAMPLE_TIME = 1_583_348_638_390;

/** A direct invoke, as the recipes send it. */
export function direct(params: Params): unknown {
  return { queryStringParameters: params };
}

/** API Gateway REST API (payload 1.0). */
export function restEvent(method: string, options: RequestOptions & { query?: Params | null; body?: string | null; isBase64Encoded?: boolean } = {}): unknown {
  const headers = options.headers ?? {};
  const query = options.query ?? null;
  return {
    resource: '/visit',
    path: '/visit',
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'trafficapi',
      stage: 'prod',
      resourcePath: '/visit',
      httpMethod: method,
      path: '/prod/visit',
      requestId: options.requestId ?? SAMPLE_REQUEST_ID,
      requestTimeEpoch: options.time ?? SAMPLE_TIME,
      identity: { sourceIp: options.sourceIp ?? '203.0.113.10', userAgent: headers['User-Agent'] ?? 'Mozilla/5.0' },
    },
    body: options.body ?? null,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** API Gateway HTTP API (payload 2.0). */
export function httpEvent(
  method: string,
  options: RequestOptions & { query?: Params; rawQueryString?: string; body?: string; isBase64Encoded?: boolean } = {},
): unknown {
  const query = options.query;
  const headers = options.headers ?? {};
  return {
    version: '2.0',
    routeKey: `${method} /visit`,
    rawPath: '/visit',
    rawQueryString: options.rawQueryString ?? (query ? new URLSearchParams(query).toString() : ''),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'trafficapi',
      domainName: 'api.example.com',
      http: { method, path: '/visit', protocol: 'HTTP/1.1', sourceIp: options.sourceIp ?? '198.51.100.7', userAgent: headers['user-agent'] ?? 'agent' },
      requestId: options.requestId ?? SAMPLE_REQUEST_ID,
      routeKey: `${method} /visit`,
      stage: '$default',
      timeEpoch: options.time ?? SAMPLE_TIME,
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}
