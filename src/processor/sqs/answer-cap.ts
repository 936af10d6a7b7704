/**
 * The largest answer an SQS call may bring, on both paths (the lean calls and the SDK's own
 * request handler): an endpoint, or something posing as one, that sends more fails the call and
 * loses its socket, and nothing beyond the cap is held in memory.
 */
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';

/** SQS caps a message (body and attributes) at 1 MiB. */
const MAX_MESSAGE_BYTES = 1_048_576;
/**
 * A ReceiveMessage of 10 messages of 1 MiB, each at most doubled by JSON escaping (a body of
 * quotes or backslashes), plus 1 MiB of room for ids, handles, hashes and attributes.
 */
export const MAX_ANSWER_BYTES = 10 * 2 * MAX_MESSAGE_BYTES + MAX_MESSAGE_BYTES;

/** An answer past the cap: the call fails like any other. */
export class AnswerTooLarge extends Error {
  override name = 'AnswerTooLarge';
  constructor(bytes: number, maxBytes: number, host: string) {
    super(`the answer from ${host} passed ${maxBytes} bytes (${bytes} read or announced): refused`);
  }
}

/** The SDK's Node request handler, its answers capped at `maxAnswerBytes`. */
export class CappedHttpHandler extends NodeHttpHandler {
  readonly #maxAnswerBytes: number;

  constructor(options: ConstructorParameters<typeof NodeHttpHandler>[0], maxAnswerBytes = MAX_ANSWER_BYTES) {
    super(options);
    this.#maxAnswerBytes = maxAnswerBytes;
  }

  override async handle(request: Parameters<NodeHttpHandler['handle']>[0], options?: HttpHandlerOptions): ReturnType<NodeHttpHandler['handle']> {
    const result = await super.handle(request, options);
    const source = result.response.body as IncomingMessage;
    const host = request.hostname;
    const max = this.#maxAnswerBytes;
    const declared = Number(result.response.headers['content-length']);
    if (declared > max) {
      source.destroy();
      throw new AnswerTooLarge(declared, max, host);
    }
    let bytes = 0;
    const capped = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes <= max) return done(null, chunk);
        source.destroy();
        done(new AnswerTooLarge(bytes, max, host));
      },
    });
    source.once('error', (error) => capped.destroy(error));
    source.pipe(capped);
    result.response.body = capped;
    return result;
  }
}
