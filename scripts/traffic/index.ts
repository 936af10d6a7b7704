/** The load generator's core, for the CLI, the benchmark and the fault suite. */
export { DEFAULT_MIX, EVENT_SOURCES, generateEvents, MixError, parseMix } from './generate.ts';
export type { EventSource, Expectation, GenerateOptions, Mix, TrafficEvent } from './generate.ts';
export { runTraffic } from './run.ts';
export type { Invoke, Outcome, RunOptions, TrafficProgress, TrafficResult, TrafficSummary } from './run.ts';
export { progressLine, summaryText } from './progress.ts';
