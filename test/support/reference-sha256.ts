/**
 * A SHA-256 (or HMAC-SHA-256 with a secret) for the SDK's SigV4 signer, straight from Node's
 * crypto: the reference the tests sign with.
 */
import { createHash, createHmac } from 'node:crypto';

export class ReferenceSha256 {
  readonly #hash;

  constructor(secret?: string | Uint8Array) {
    this.#hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }

  update(data: string | Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}
