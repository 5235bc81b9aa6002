/**
 * The limits the protocol enforces on what a peer may send. Every limit maps to a close
 * code and a stable error code; see the README's options table.
 */
export interface ProtocolLimits {
  /**
   * Largest message accepted, in bytes, counted across all fragments. Checked from the
   * length field before a byte of payload is buffered. Exceeding it fails the connection
   * with 1009 (`WS_ERR_UNSUPPORTED_MESSAGE_LENGTH`). Use `Infinity` for no limit (not recommended).
   * @default 1 MiB (1_048_576)
   */
  maxMessageSize: number
}

/** 1 MiB: enough for chat, JSON and small files; a slow attacker can pin little memory. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024

export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE
})

/** Throws a RangeError unless `value` is a positive integer byte count or Infinity. */
export function assertByteLimit (name: string, value: number): void {
  if (value === Infinity) return
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer number of bytes or Infinity, got ${String(value)}`)
  }
}
