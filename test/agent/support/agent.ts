/** An agent wired to a recording queue and a recording log, with a fixed clock. */
import { createLogger } from '../../../src/platform/logger.ts';
import { Writable } from 'node:stream';
import { createAgent, type AgentHandler, type OutgoingMessage, type SendVisit } from '../../../src/agent/agent.ts';
import type { AgentResponse } from '../../../src/agent/responses.ts';

export const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

export interface RecordingAgent {
  readonly handle: AgentHandler;
  readonly sent: OutgoingMessage[];
  readonly logs: Array<Record<string, unknown>>;
}

export function recordingAgent(options: { send?: SendVisit } = {}): RecordingAgent {
  const sent: OutgoingMessage[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      callback();
    },
  });
  const send: SendVisit =
    options.send ??
    (async (message) => {
      sent.push(message);
    });
  const handle = createAgent({ send, logger: createLogger({ name: 'traffic-agent', level: 'debug', destination: sink }), now: () => NOW });
  return { handle, sent, logs };
}

export function bodyOf(response: AgentResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}
