/**
 * A raw WebSocket opened by the browser from inside a page: it carries the page's origin and
 * its cookies, as the page's own code would, but the test decides what is sent (messages that
 * break a protocol, binary) and reads everything that happened (opened, messages, the close).
 *
 *   const socket = await PageSocket.open(page, 'ws://127.0.0.1:3000/chat/lobby')
 *   await socket.waitFor((s) => s.opened, 'open')
 *   await socket.send('{"type":"say","text":""}')
 *   const { close } = await socket.waitFor((s) => s.close !== null, 'the close')
 */
import type { Page } from 'playwright-core'
import { sleep } from './wait.js'

/** What one page socket saw so far. */
export interface PageSocketState {
  opened: boolean
  /** Text messages as they came; binary ones as `[binary N bytes]`. */
  received: string[]
  /** The CloseEvent, once closed (1006 for a refused handshake or a dropped connection). */
  close: { code: number, reason: string, wasClean: boolean } | null
  /** An 'error' event fired (a refused handshake, a dropped connection). */
  errored: boolean
}

interface InPage {
  __pageSockets?: {
    open: (url: string) => number
    send: (id: number, data: string | number[]) => void
    close: (id: number, code?: number, reason?: string) => void
    state: (id: number) => PageSocketState
  }
}

/** Defines `__pageSockets` in the page (once). Runs in the browser, so plain JavaScript. */
const IN_PAGE_SCRIPT = `globalThis.__pageSockets ??= (() => {
  const sockets = []
  return {
    open (url) {
      const entry = { socket: new WebSocket(url), opened: false, received: [], close: null, errored: false }
      entry.socket.binaryType = 'arraybuffer'
      entry.socket.onopen = () => { entry.opened = true }
      entry.socket.onmessage = (event) => { entry.received.push(typeof event.data === 'string' ? event.data : '[binary ' + event.data.byteLength + ' bytes]') }
      entry.socket.onerror = () => { entry.errored = true }
      entry.socket.onclose = (event) => { entry.close = { code: event.code, reason: event.reason, wasClean: event.wasClean } }
      return sockets.push(entry) - 1
    },
    send (id, data) { sockets[id].socket.send(typeof data === 'string' ? data : new Uint8Array(data)) },
    close (id, code, reason) { sockets[id].socket.close(code, reason) },
    state (id) {
      const { opened, received, close, errored } = sockets[id]
      return { opened, received: [...received], close, errored }
    }
  }
})()`

export class PageSocket {
  private constructor (readonly page: Page, readonly id: number, readonly url: string) {}

  /** Opens `url` from inside `page` (with its origin and cookies). */
  static async open (page: Page, url: string): Promise<PageSocket> {
    await page.evaluate(IN_PAGE_SCRIPT)
    const id = await page.evaluate((target) => (globalThis as InPage).__pageSockets?.open(target), url)
    if (id === undefined) throw new Error('the page socket script did not load')
    return new PageSocket(page, id, url)
  }

  /** Sends text, or bytes (an array of numbers) as a binary message. */
  async send (data: string | number[]): Promise<void> {
    await this.page.evaluate(([id, payload]) => { (globalThis as InPage).__pageSockets?.send(id, payload) }, [this.id, data] as const)
  }

  async close (code?: number, reason?: string): Promise<void> {
    await this.page.evaluate(([id, closeCode, closeReason]) => { (globalThis as InPage).__pageSockets?.close(id, closeCode, closeReason) }, [this.id, code, reason] as const)
  }

  async state (): Promise<PageSocketState> {
    const state = await this.page.evaluate((id) => (globalThis as InPage).__pageSockets?.state(id), this.id)
    if (state === undefined) throw new Error('the page socket script is gone (did the page navigate?)')
    return state
  }

  /** Polls until `condition` holds, within `ms`; the state that satisfied it. */
  async waitFor (condition: (state: PageSocketState) => boolean, label: string, ms = 5000): Promise<PageSocketState> {
    const deadline = Date.now() + ms
    for (;;) {
      const state = await this.state()
      if (condition(state)) return state
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label} on ${this.url}: ${JSON.stringify(state)}`)
      await sleep(20)
    }
  }
}
