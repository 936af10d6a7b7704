/** A logger from the platform factory (its serializers and redaction) whose JSON lines a test reads back, parsed. */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/platform/logger.ts';

export function capturedLogger<Line = Record<string, unknown>>(level: string, name = 'traffic-processor'): { lines: Line[]; logger: Logger } {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  return { lines, logger: createLogger({ name, level, destination }) };
}
