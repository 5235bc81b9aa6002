/**
 * Driving the chat example's page (example-app/chat/public) only through what its spec pins:
 * the `data-testid`s `name`, `join`, `message`, `send`, `log` (one element per line) and
 * `status` (its `data-state`: connecting, connected, disconnected).
 */
import type { BrowserContext, Page } from 'playwright-core'
import { sleep } from './wait.js'

/** Bound on each wait on the page, in milliseconds. */
export const PAGE_WAIT = 10_000

/** A chat page, and the errors its scripts threw (a test asserts there were none). */
export interface ChatPage {
  page: Page
  pageErrors: Error[]
  /** Every WebSocket URL the page opened, in order. */
  socketUrls: string[]
}

/** Opens the chat at `url` in `context`, joins as `name`, and waits until it is connected. */
export async function joinChat (context: BrowserContext, url: string, name: string): Promise<ChatPage> {
  const page = await context.newPage()
  const pageErrors: Error[] = []
  const socketUrls: string[] = []
  page.on('pageerror', (error) => pageErrors.push(error))
  page.on('websocket', (socket) => socketUrls.push(socket.url()))
  await page.goto(url, { timeout: PAGE_WAIT })
  await page.getByTestId('name').fill(name)
  await page.getByTestId('join').click()
  await waitForState(page, 'connected')
  return { page, pageErrors, socketUrls }
}

/** Waits until the status element says `state`. */
export async function waitForState (page: Page, state: 'connecting' | 'connected' | 'disconnected', ms = PAGE_WAIT): Promise<void> {
  await page.locator(`[data-testid="status"][data-state="${state}"]`).waitFor({ timeout: ms })
}

/** Types `text` into the message field and clicks send. */
export async function say (page: Page, text: string): Promise<void> {
  await page.getByTestId('message').fill(text)
  await page.getByTestId('send').click()
}

/** The log's lines, as text. */
export async function logLines (page: Page): Promise<string[]> {
  return await page.getByTestId('log').locator(':scope > *').allTextContents()
}

/** Waits until the log has a line equal to `line`; all lines then. */
export async function waitForLine (page: Page, line: string, ms = PAGE_WAIT): Promise<string[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const lines = await logLines(page)
    if (lines.includes(line)) return lines
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for the line ${JSON.stringify(line)}; the log has ${JSON.stringify(lines)}`)
    await sleep(25)
  }
}
