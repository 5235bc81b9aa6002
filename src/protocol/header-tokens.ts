/**
 * Linear-time parsing of comma-separated header values (RFC 9110 §5.6.1), for `Connection`,
 * `Upgrade`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`. One pass, no regular
 * expressions with backtracking, so a 100 KiB value of spaces and commas costs microseconds.
 */

/** RFC 9110 §5.6.2 tchar, as a lookup table over the 128 ASCII codes. */
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1

export function isToken (value: string): boolean {
  if (value.length === 0) return false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 127 || TCHAR[c] === 0) return false
  }
  return true
}

/**
 * Throws a TypeError for a header value that could split an HTTP head (CR, LF or NUL). Every
 * header this package writes, in the 101 or in a client request, passes through here.
 */
export function assertHeaderValue (name: string, value: string): void {
  if (!isHeaderValue(value)) throw new TypeError(`invalid characters in header ${name}`)
}

/** Whether `value` can be written in an HTTP head: no CR, LF or NUL to split it. */
export function isHeaderValue (value: string): boolean {
  return !/[\r\n\0]/.test(value)
}

function isOws (c: number): boolean {
  return c === 0x20 || c === 0x09
}

/**
 * Splits a list header into its trimmed, non-empty elements. Returns null if an element is
 * not a token (only for headers whose grammar is a token list).
 */
export function parseTokenList (value: string): string[] | null {
  const tokens: string[] = []
  const length = value.length
  let i = 0
  while (i < length) {
    while (i < length && (isOws(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++
    if (i === length) break
    const start = i
    while (i < length && value.charCodeAt(i) !== 0x2c) i++
    let end = i
    while (end > start && isOws(value.charCodeAt(end - 1))) end--
    const token = value.slice(start, end)
    if (!isToken(token)) return null
    tokens.push(token)
  }
  return tokens
}

/**
 * Whether a list header holds `wanted` as one of its elements, compared case-insensitively.
 * Elements that are not tokens are skipped rather than rejected, as `Connection` may carry
 * anything a proxy put there.
 */
export function hasToken (value: string | undefined, wanted: string): boolean {
  if (value === undefined) return false
  const length = value.length
  const wantedLength = wanted.length
  let i = 0
  while (i < length) {
    while (i < length && (isOws(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++
    const start = i
    while (i < length && value.charCodeAt(i) !== 0x2c) i++
    let end = i
    while (end > start && isOws(value.charCodeAt(end - 1))) end--
    if (end - start === wantedLength && value.slice(start, end).toLowerCase() === wanted) return true
  }
  return false
}
