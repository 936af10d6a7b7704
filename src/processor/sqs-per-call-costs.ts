/**
 * Four things the AWS SDK redoes on every call of a client, done once per client instead, with the
 * same requests and the same results:
 * - The SigV4 signer. By default each call builds a new one from a copy of the whole client
 *   configuration. Here one is built from the client's own credential provider (which still
 *   renews credentials before they expire) and kept.
 * - The serde's copy of the configuration. The SDK's serializer and deserializer copy the client
 *   configuration into their context on every call. That object is a slow one for V8 to copy (an
 *   accessor, properties added one by one: dictionary mode), about 7 µs a copy. Here the SDK's own
 *   serde plugin is set again, over a plain copy of the configuration made once (about 1 µs a copy).
 * - The endpoint's copy of the configuration. Each command adds the SDK's endpoint middleware with
 *   the configuration the client sends it with (`client.config`), which it copies on every call.
 *   Here `client.config` becomes that same plain copy.
 * - The default user-agent sections (SDK version, OS, runtime), built on every call: built once.
 * The copy holds what does not change after construction (endpoint, region, encoders, stream
 * collector). What does change, the clock offset, stays on the object the client was built with,
 * where the client's own middleware (signing, retry, user agent) reads and sets it. So after this,
 * `client.config` is a snapshot: set nothing through it. A client whose credentials change is built again.
 * Apply before the client's first call: with `cacheMiddleware`, each command's chain is built then.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { getSchemaSerdePlugin } from '@smithy/core/schema';
import { SignatureV4 } from '@smithy/signature-v4';

export function cutPerCallCosts(client: SQSClient): SQSClient {
  const { config } = client;
  // What the default signer is built with: the resolved region and the service's signing name (SQS
  // endpoints name no other), and the client's credential provider.
  const signer = new SignatureV4({
    credentials: config.credentials,
    region: config.region,
    service: 'sqs',
    sha256: config.sha256,
    uriEscapePath: config.signingEscapePath,
  });
  // Read on every call by the SDK's SigV4 signing, from the object the client was built with: one settled promise serves them all.
  const signerPromise = Promise.resolve(signer);
  config.signer = () => signerPromise;
  // Asked for by the SDK's user-agent middleware on every call, which still escapes them per call.
  const userAgent = config.defaultUserAgentProvider();
  config.defaultUserAgentProvider = () => userAgent;
  // Made after the signer is set, so it hands out the same one.
  const plain = { ...config };
  // Same names as the SDK's serializer and deserializer: these replace them.
  client.middlewareStack.use(getSchemaSerdePlugin(plain as Parameters<typeof getSchemaSerdePlugin>[0]));
  // What commands are sent with, so what the endpoint middleware copies.
  (client as { config: SQSClient['config'] }).config = plain;
  return client;
}
