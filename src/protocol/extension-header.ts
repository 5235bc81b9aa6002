import { isToken } from './header-tokens.js'

/**
 * `Sec-WebSocket-Extensions` parsing and serialising (RFC 6455 §9.1), independent of any one
 * extension:
 *
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" ( token | quoted-string ) ]
 *
 * with optional whitespace around the separators (the "implied *LWS" of the grammar RFC 6455
 * uses). A quoted value, once unescaped, must itself be a token (§9.1's note).
 *
 * One pass over the characters, no regular expressions, no backtracking: a 100 KiB header of
 * separators or an unterminated quote costs time linear in its length. A malformed element does
 * not spoil its neighbours: it is reported with an `error` and parsing resumes after the next
 * comma outside a quoted string.
 */

/** One `name[=value]` parameter of an extension element. */
export interface ExtensionParam {
  /** The parameter name, lower-cased (names are compared case-insensitively). */
  name: string
  /** The value as sent (quotes removed, escapes resolved), or `true` for a bare name. */
  value: string | true
}

/** One element of the list: an extension name with its parameters, as the peer wrote them. */
export interface ExtensionElement {
  /** The extension token, lower-cased; `''` when the element did not even start with one. */
  name: string
  /** Parameters in the order given; duplicates are kept so the extension can refuse them. */
  params: ExtensionParam[]
  /**
   * Set when the element breaks the grammar: it must be declined (a server) or refused
   * (a client). The text is safe to show the peer.
   */
  error?: string
}

const TAB = 0x09
const SPACE = 0x20
const QUOTE = 0x22
const COMMA = 0x2c
const SEMICOLON = 0x3b
const EQUALS = 0x3d
const BACKSLASH = 0x5c

/** RFC 9110 §5.6.2 tchar, as a lookup table over the 128 ASCII codes. */
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1

function isTchar (c: number): boolean {
  return c < 128 && TCHAR[c] === 1
}

/** RFC 9110 §5.6.4 qdtext and quoted-pair octets: HTAB, SP, VCHAR, obs-text (no controls). */
function isQuotable (c: number): boolean {
  return c === TAB || (c >= 0x20 && c !== 0x7f && c <= 0xff)
}

/** A cursor over the header text; every method advances it and never moves it back. */
class Cursor {
  position = 0
  readonly length: number
  constructor (readonly text: string) {
    this.length = text.length
  }

  get done (): boolean {
    return this.position >= this.length
  }

  /** The current character code, or -1 at the end. */
  peek (): number {
    return this.position < this.length ? this.text.charCodeAt(this.position) : -1
  }

  skipWhitespace (): void {
    while (this.position < this.length) {
      const c = this.text.charCodeAt(this.position)
      if (c !== SPACE && c !== TAB) return
      this.position++
    }
  }

  /** Reads a run of tchar; '' when the current character is not one. */
  token (): string {
    const start = this.position
    while (this.position < this.length && isTchar(this.text.charCodeAt(this.position))) this.position++
    return this.text.slice(start, this.position)
  }

  /**
   * Reads a quoted-string whose opening quote is the current character. Returns the unescaped
   * content, or null when the string is unterminated or holds a forbidden character. Either
   * way the cursor ends past the closing quote (or at the end), so recovery resumes outside it.
   */
  quotedString (): string | null {
    this.position++ // the opening quote
    let value = ''
    let valid = true
    let runStart = this.position
    while (this.position < this.length) {
      const c = this.text.charCodeAt(this.position)
      if (c === QUOTE) {
        value += this.text.slice(runStart, this.position)
        this.position++
        return valid ? value : null
      }
      if (c === BACKSLASH) {
        // RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
        value += this.text.slice(runStart, this.position)
        this.position++
        if (this.position >= this.length) return null
        if (!isQuotable(this.text.charCodeAt(this.position))) valid = false
        runStart = this.position
        this.position++
        continue
      }
      if (!isQuotable(c)) valid = false
      this.position++
    }
    return null
  }

  /**
   * Error recovery: moves past the next comma that is outside a quoted string, or to the end.
   * Starts where parsing stopped, so the whole parse stays linear.
   */
  skipElement (): void {
    let quoted = false
    while (this.position < this.length) {
      const c = this.text.charCodeAt(this.position)
      this.position++
      if (quoted) {
        if (c === BACKSLASH) this.position++
        else if (c === QUOTE) quoted = false
      } else if (c === QUOTE) {
        quoted = true
      } else if (c === COMMA) {
        return
      }
    }
  }
}

/**
 * Parses a `Sec-WebSocket-Extensions` value (several header lines joined with commas, RFC 9110
 * §5.3) into its elements, in order. Empty list elements (`a,,b`) are skipped, as RFC 9110 §5.6.1
 * asks of recipients. Never throws; malformed elements carry an `error`.
 */
export function parseExtensionHeader (value: string): ExtensionElement[] {
  const cursor = new Cursor(value)
  const elements: ExtensionElement[] = []
  for (;;) {
    // Leading whitespace and empty elements.
    while (!cursor.done) {
      const c = cursor.peek()
      if (c !== SPACE && c !== TAB && c !== COMMA) break
      cursor.position++
    }
    if (cursor.done) return elements
    const element = parseElement(cursor)
    elements.push(element)
    if (element.error !== undefined) cursor.skipElement()
  }
}

/** Parses one element; on success the cursor is at the end or just past its comma. */
function parseElement (cursor: Cursor): ExtensionElement {
  const name = cursor.token().toLowerCase()
  const element: ExtensionElement = { name, params: [] }
  if (name === '') return fail(element, 'an extension must start with its name')
  for (;;) {
    cursor.skipWhitespace()
    const c = cursor.peek()
    if (c === -1) return element
    if (c === COMMA) {
      cursor.position++
      return element
    }
    if (c !== SEMICOLON) return fail(element, `unexpected character after ${name}`)
    cursor.position++
    cursor.skipWhitespace()
    const paramName = cursor.token().toLowerCase()
    if (paramName === '') return fail(element, `a parameter of ${name} has no name`)
    cursor.skipWhitespace()
    if (cursor.peek() !== EQUALS) {
      element.params.push({ name: paramName, value: true })
      continue
    }
    cursor.position++
    cursor.skipWhitespace()
    let paramValue: string | null
    if (cursor.peek() === QUOTE) {
      paramValue = cursor.quotedString()
      if (paramValue === null) return fail(element, `the quoted value of ${paramName} is not terminated or holds a control character`)
      // RFC 6455 §9.1: "the value after quoted-string unescaping MUST conform to the 'token' ABNF".
      if (!isToken(paramValue)) return fail(element, `the quoted value of ${paramName} is not a token`)
    } else {
      paramValue = cursor.token()
      if (paramValue === '') return fail(element, `${paramName}= has no value`)
    }
    element.params.push({ name: paramName, value: paramValue })
  }
}

function fail (element: ExtensionElement, error: string): ExtensionElement {
  element.error = error
  return element
}

/**
 * Serialises elements for a header (`a; p=1; q, b`). Names and values must be tokens, which is
 * all this package ever sends; anything else is a programming error and throws a TypeError.
 * Elements with an `error` cannot be serialised either.
 */
export function formatExtensionHeader (elements: readonly ExtensionElement[]): string {
  const parts: string[] = []
  for (const element of elements) {
    if (element.error !== undefined) throw new TypeError(`cannot serialise a malformed extension element (${element.error})`)
    if (!isToken(element.name)) throw new TypeError(`extension name ${JSON.stringify(element.name)} is not a token`)
    let text = element.name
    for (const param of element.params) {
      if (!isToken(param.name)) throw new TypeError(`extension parameter name ${JSON.stringify(param.name)} is not a token`)
      if (param.value === true) {
        text += `; ${param.name}`
      } else {
        if (!isToken(param.value)) throw new TypeError(`value of extension parameter ${param.name} is not a token`)
        text += `; ${param.name}=${param.value}`
      }
    }
    parts.push(text)
  }
  return parts.join(', ')
}
