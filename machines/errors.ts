/** Errors the machines tell apart; the adapters that provide their actors throw them. */

/**
 * A write whose deadline ran out while it waited for a write slot: storage was never called,
 * so it is not an attempt (the batch writes again at once) and says nothing of the table's health.
 */
export class WriteNotStarted extends Error {
  override name = 'WriteNotStarted';
}
