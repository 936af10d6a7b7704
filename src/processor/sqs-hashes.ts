/**
 * The hashes the SDK computes on every call it sends for the processor (the calls other than the
 * per-message ones, ./sqs-lean-calls.ts): SigV4's SHA-256 digests and HMAC signature, and the MD5
 * checks of message bodies. The same digests as the SDK's defaults, at a fraction
 * of their cost: the defaults build a Hash object per digest and copy it before finishing, and
 * hand HMAC its key as bytes, which Node 24 turns into a new key object on every call (about
 * 12 µs). Here a digest is one call to Node's one-shot `crypto.hash`, and an HMAC key becomes
 * a key object once.
 * SigV4 also signs the access key id with the secret key on every call, only to name its cache of
 * signing keys: the HMAC of a short message (64 bytes at most) is kept with its key, computed once.
 */
import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

/** What the SDK hands a hash (its `SourceData`). */
type SourceData = string | ArrayBuffer | ArrayBufferView;
type Chunk = string | Uint8Array;

/** An HMAC key object, and the digests of the short messages signed with it. */
interface HmacKey {
  readonly key: KeyObject;
  readonly digests: Map<string, Buffer>;
}

/** HMAC keys by the key (SigV4 hashes the secret key and signs a day's calls with one derived key). */
const hmacKeys = new Map<string, HmacKey>();
/** Keys rotate with credentials and dates: a few live at once, the rest are dropped. */
const MAX_HMAC_KEYS = 16;
/** At most this many digests of short messages per key (SigV4 signs one per key). */
const MAX_KEPT_MESSAGES = 16;
/** Longer messages (SigV4's string to sign) differ on every call: not kept. */
const MAX_KEPT_MESSAGE_BYTES = 64;

/** Strings are hashed as UTF-8, as the SDK's defaults do (no SDK caller passes an encoding). */
function toChunk(data: SourceData): Chunk {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function asBuffer(chunk: Chunk): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * What is kept under these bytes (not under the object that holds them: a string is its UTF-8
 * bytes), made and kept when missing. A full map is emptied: only a few entries live at once.
 */
function keptBy<T>(kept: Map<string, T>, max: number, bytes: Buffer, make: () => T): T {
  const id = bytes.toString('latin1');
  let value = kept.get(id);
  if (value === undefined) {
    if (kept.size >= max) kept.clear();
    value = make();
    kept.set(id, value);
  }
  return value;
}

function hmacKey(secret: Chunk): HmacKey {
  const bytes = asBuffer(secret);
  return keptBy(hmacKeys, MAX_HMAC_KEYS, bytes, () => ({ key: createSecretKey(bytes), digests: new Map() }));
}

function hmac({ key, digests }: HmacKey, data: Chunk): Buffer {
  const bytes = asBuffer(data);
  const sign = () => createHmac('sha256', key).update(bytes).digest();
  if (bytes.byteLength > MAX_KEPT_MESSAGE_BYTES) return sign();
  // A copy: what the caller does with it cannot change the kept one.
  return Buffer.from(keptBy(digests, MAX_KEPT_MESSAGES, bytes, sign));
}

function asBytes(digest: Buffer): Uint8Array {
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** A hash that keeps what it is given and digests it in one call; digest may be called again. */
abstract class OneShotHash {
  #chunks: Chunk[] = [];

  update(data: SourceData): void {
    this.#chunks.push(toChunk(data));
  }

  reset(): void {
    this.#chunks = [];
  }

  async digest(): Promise<Uint8Array> {
    const chunks = this.#chunks;
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    return asBytes(this.compute(data));
  }

  protected abstract compute(data: Chunk): Buffer;
}

/** SHA-256, or HMAC-SHA-256 when constructed with a secret: the client's `sha256` option. */
export class Sha256 extends OneShotHash {
  readonly digestLength = 32;
  readonly #key: HmacKey | undefined;

  constructor(secret?: SourceData) {
    super();
    // As the SDK's default: an empty string is no secret.
    this.#key = secret ? hmacKey(toChunk(secret)) : undefined;
  }

  protected compute(data: Chunk): Buffer {
    return this.#key === undefined ? hash('sha256', data, 'buffer') : hmac(this.#key, data);
  }
}

/** MD5 for the SQS checks of message bodies: the client's `md5` option. */
export class Md5 extends OneShotHash {
  readonly digestLength = 16;

  protected compute(data: Chunk): Buffer {
    return hash('md5', data, 'buffer');
  }
}
