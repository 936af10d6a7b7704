/** Size limits of the wire contract, shared by the agent and the processor. */
export const LIMITS = {
  /** A visit body is a few hundred bytes; anything far larger is not a visit. */
  bodyBytes: 8 * 1024,
  typeLength: 32,
  /** Longest textual IPv6 form (IPv4-mapped with zone-less address). */
  ipLength: 45,
  /** Common practical URL limit of browsers and CDNs. */
  urlLength: 2048,
  visitIdLength: 128,
} as const;

/** created_at must be epoch milliseconds between these bounds (2000-01-01 and 2100-01-01). */
export const CREATED_AT_RANGE = { min: 946_684_800_000, max: 4_102_444_800_000 } as const;
