/**
 * Running totals for a set of connections (one plugin instance's), bumped as traffic flows:
 * a few integer increments per message, read by `websocketServer.stats()`.
 */
export class TrafficCounters {
  /** Data messages delivered to the application. */
  messagesIn = 0
  /** Their payload bytes (decompressed). */
  bytesIn = 0
  /** Data messages accepted by `send` and `publish`. */
  messagesOut = 0
  /** Their payload bytes (before compression). */
  bytesOut = 0
  /** Connections closed, by the close code their 'close' event reported. */
  readonly closesByCode = new Map<number, number>()

  closed (code: number): void {
    this.closesByCode.set(code, (this.closesByCode.get(code) ?? 0) + 1)
  }
}
