/**
 * An HTTP request as a Lambda function URL hands it to the function (payload format 2.0), so
 * the local entry runs the agent on the very event shape it gets on AWS. What the platform
 * knows (source IP, time, request id) comes from the connection, never from the request's
 * headers: like AWS, the entry sets x-forwarded-for itself. Pure.
 */

export interface HttpRequestFacts {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly target: string;
  /** Header names lower-cased, repeated values as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly host: string;
  readonly requestId: string;
  readonly timeEpoch: number;
}

/** Content types a function URL passes as text; any other body arrives base64-encoded. */
const TEXT_TYPE = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) as the IPv4 address AWS reports. */
export function plainIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

function joinHeaders(headers: HttpRequestFacts['headers'], sourceIp: string): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'x-forwarded-for') continue;
    joined[name] = typeof value === 'string' ? value : value.join(',');
  }
  joined['x-forwarded-for'] = sourceIp;
  return joined;
}

function queryParameters(rawQuery: string): Record<string, string> | undefined {
  const params = new URLSearchParams(rawQuery);
  const joined: Record<string, string> = {};
  for (const name of new Set(params.keys())) joined[name] = params.getAll(name).join(',');
  return Object.keys(joined).length > 0 ? joined : undefined;
}

export function functionUrlEvent(request: HttpRequestFacts): Record<string, unknown> {
  const queryAt = request.target.indexOf('?');
  const rawPath = queryAt < 0 ? request.target : request.target.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : request.target.slice(queryAt + 1);
  const headers = joinHeaders(request.headers, request.sourceIp);
  const query = queryParameters(rawQueryString);
  const contentType = headers['content-type'] ?? '';
  const hasBody = request.body.length > 0;
  const asText = !hasBody || TEXT_TYPE.test(contentType);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    ...(query !== undefined ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: request.host,
      domainPrefix: 'local',
      http: { method: request.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: request.requestId,
      routeKey: '$default',
      stage: '$default',
      time: new Date(request.timeEpoch).toISOString(),
      timeEpoch: request.timeEpoch,
    },
    ...(hasBody ? { body: asText ? request.body.toString('utf8') : request.body.toString('base64') } : {}),
    isBase64Encoded: !asText,
  };
}
