/**
 * A headless Chromium for tests that need a real browser as the WebSocket peer (its own
 * handshake, its own framing and compression), driven through `playwright-core` (no browser
 * download: the system's Chromium is used).
 *
 *   const page = await openPage(t, `${httpUrl}/page.html`)
 *   const result = await page.evaluate(...)
 *
 * For several users at once (separate cookies and storage), one browser with a context each:
 *
 *   const browser = await launchBrowserForContexts(t)
 *   const alice = await browser.newContext()
 *   const bob = await browser.newContext()
 *
 * Every launch gets a fresh profile in a temporary directory, removed at teardown with the
 * browser. Every step is bounded. If Chromium is missing, the call fails with a message saying
 * where it was looked for and how to provide it (tests are never skipped for it).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { withTimeout } from './wait.js'

/** Where Chromium is looked for: `CHROMIUM_PATH`, else Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Quiet, deterministic, container-safe flags: no sandbox (containers lack the namespaces), no
 * GPU, no first-run UI, no background traffic (updates, sync, field trials), no QUIC.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic'
]

/** Bound on launching and on closing the browser, in milliseconds. */
export const BROWSER_WAIT = 30_000

/** What the helpers need of tap's `t`. */
export interface Teardown {
  teardown: (fn: () => unknown) => void
}

/** A launched browser (one persistent context on a fresh profile). */
export interface LaunchedBrowser {
  context: BrowserContext
  /** The temporary profile directory (removed at teardown). */
  userDataDir: string
}

/**
 * Launches Chromium with CHROMIUM_ARGS on a fresh profile; closed, and its profile removed, in
 * the teardown of `t`. Throws a clear error if Chromium is not installed at CHROMIUM_PATH.
 */
export async function launchBrowser (t: Teardown, options: { timeout?: number, extraArgs?: readonly string[] } = {}): Promise<LaunchedBrowser> {
  assertChromiumInstalled()
  const timeout = options.timeout ?? BROWSER_WAIT
  const userDataDir = await mkdtemp(join(tmpdir(), 'fwn-chromium-'))
  let context: BrowserContext | undefined
  // Registered before launching: a launch that fails halfway still leaves no profile behind.
  t.teardown(async () => {
    if (context !== undefined) await withTimeout(context.close(), timeout, 'closing Chromium').catch(() => {})
    await rm(userDataDir, { recursive: true, force: true })
  })
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      timeout
    })
  } catch (error) {
    throw new Error(`Chromium at ${CHROMIUM_PATH} failed to launch: ${(error as Error).message}`)
  }
  context.setDefaultTimeout(timeout)
  return { context, userDataDir }
}

/** Launches a browser (see launchBrowser) and opens `url` in a page; both closed at teardown. */
export async function openPage (t: Teardown, url: string, options: { timeout?: number } = {}): Promise<Page> {
  const { context } = await launchBrowser(t, options)
  const page = context.pages()[0] ?? await context.newPage()
  // Page errors would otherwise only show as a hung evaluate.
  const errors: Error[] = []
  page.on('pageerror', (error) => errors.push(error))
  const response = await page.goto(url, { timeout: options.timeout ?? BROWSER_WAIT })
  if (response === null || !response.ok()) throw new Error(`loading ${url} gave ${response === null ? 'no response' : response.status()}`)
  if (errors.length > 0) throw errors[0]
  return page
}

/** A launched browser whose contexts are separate users (see launchBrowserForContexts). */
export interface MultiContextBrowser {
  browser: Browser
  /**
   * A new context: its own cookies, storage and cache, as a separate user or an incognito
   * window would have. Its default timeout is the browser's; it is closed with the browser.
   */
  newContext: () => Promise<BrowserContext>
}

/**
 * Launches Chromium (CHROMIUM_ARGS, a temporary profile Playwright removes) for tests that need
 * several isolated contexts, e.g. two users with separate cookies; closed at the teardown of `t`.
 * Throws a clear error if Chromium is not installed at CHROMIUM_PATH.
 */
export async function launchBrowserForContexts (t: Teardown, options: { timeout?: number, extraArgs?: readonly string[] } = {}): Promise<MultiContextBrowser> {
  assertChromiumInstalled()
  const timeout = options.timeout ?? BROWSER_WAIT
  let browser: Browser
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      timeout
    })
  } catch (error) {
    throw new Error(`Chromium at ${CHROMIUM_PATH} failed to launch: ${(error as Error).message}`)
  }
  t.teardown(async () => { await withTimeout(browser.close(), timeout, 'closing Chromium').catch(() => {}) })
  return {
    browser,
    newContext: async () => {
      const context = await browser.newContext()
      context.setDefaultTimeout(timeout)
      return context
    }
  }
}

function assertChromiumInstalled (): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to its executable`)
  }
}
