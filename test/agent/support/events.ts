/** Lambda events as the platform sends them (trimmed to the fields that matter, names as in AWS's samples). */

type Params = Record<string, string>;

export interface RequestOptions {
  readonly sourceIp?: string;
  readonly headers?: Record<string, string>;
}

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
      accountId: '123456789012',
      apiId: 'abcdef1234',
      stage: 'prod',
      httpMethod: method,
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      identity: { sourceIp: options.sourceIp ?? '203.0.113.10', userAgent: 'Mozilla/5.0' },
    },
    body: options.body ?? null,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/** API Gateway HTTP API (payload 2.0). */
export function httpEvent(method: string, options: RequestOptions & { query?: Params; rawQueryString?: string; body?: string; isBase64Encoded?: boolean } = {}): unknown {
  const query = options.query;
  return {
    version: '2.0',
    routeKey: `${method} /visit`,
    rawPath: '/visit',
    rawQueryString: options.rawQueryString ?? (query ? new URLSearchParams(query).toString() : ''),
    headers: options.headers ?? {},
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      domainName: 'id.execute-api.us-east-1.amazonaws.com',
      http: { method, path: '/visit', protocol: 'HTTP/1.1', sourceIp: options.sourceIp ?? '198.51.100.7', userAgent: 'agent' },
      requestId: 'id',
      routeKey: `${method} /visit`,
      stage: '$default',
      timeEpoch: 1_583_348_638_390,
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}
