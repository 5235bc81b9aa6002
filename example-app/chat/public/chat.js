// The page: join with a name, chat in a room, see the connection state. User text is only ever
// put in the page as textContent (never innerHTML), so a message cannot inject markup.
import { ReconnectingSocket } from './reconnecting-socket.js'

const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/
const DEFAULT_ROOM = 'lobby'

/**
 * The element with `data-testid` = `id`.
 *
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byTestId (id, type) {
  const element = document.querySelector(`[data-testid="${id}"]`)
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} [data-testid="${id}"]`)
  return element
}

const nameInput = byTestId('name', HTMLInputElement)
const roomInput = byTestId('room', HTMLInputElement)
const joinForm = /** @type {HTMLFormElement} */ (byTestId('join', HTMLButtonElement).form)
const messageInput = byTestId('message', HTMLInputElement)
const sendButton = byTestId('send', HTMLButtonElement)
const sayForm = /** @type {HTMLFormElement} */ (sendButton.form)
const log = byTestId('log', HTMLOListElement)
const status = byTestId('status', HTMLElement)
const statusDetail = byTestId('status-detail', HTMLElement)
const joinError = /** @type {HTMLElement} */ (document.getElementById('join-error'))
const roomTitle = /** @type {HTMLElement} */ (document.getElementById('room-title'))

/** @type {ReconnectingSocket | undefined} */
let connection
/** @type {string | undefined} */
let joinedAs
/** @type {string | undefined} */
let currentRoom

/** The room in the URL (`/#kitchen`), or the default. */
function roomFromHash () {
  const room = decodeURIComponent(location.hash.slice(1)).toLowerCase()
  return ROOM_PATTERN.test(room) ? room : DEFAULT_ROOM
}

/**
 * POST /session: the server sets the signed session cookie.
 *
 * @param {string} name
 * @returns {Promise<string>} the name as the server stored it
 */
async function startSession (name) {
  const response = await fetch('/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name })
  })
  const body = await response.json()
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`)
  return body.name
}

/** GET /session: the name the cookie carries, or undefined. */
async function currentSession () {
  const response = await fetch('/session')
  return response.ok ? /** @type {string} */ ((await response.json()).name) : undefined
}

/**
 * @param {import('./reconnecting-socket.js').ConnectionState} state
 * @param {string} detail
 */
function showState (state, detail) {
  status.textContent = state
  status.dataset.state = state
  statusDetail.textContent = detail
  sendButton.disabled = state !== 'connected'
}

/**
 * Appends one line to the log, as text.
 *
 * @param {string} className
 * @param {Array<[string, string]>} parts [class, text] pairs, in order
 * @param {string} [at] ISO time, shown on hover
 */
function appendLine (className, parts, at) {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 8
  const line = document.createElement('li')
  line.className = className
  for (const [partClass, text] of parts) {
    const span = document.createElement('span')
    span.className = partClass
    span.textContent = text
    line.append(span)
  }
  if (at !== undefined) line.title = new Date(at).toLocaleString()
  log.append(line)
  if (atBottom) line.scrollIntoView({ block: 'end' })
}

/** @param {string} data one message from the server (see the README's wire protocol) */
function onServerMessage (data) {
  const message = JSON.parse(data)
  switch (message.type) {
    case 'said':
      appendLine('said', [['from', message.from], ['separator', ': '], ['text', message.text]], message.at)
      break
    case 'joined':
    case 'left':
      appendLine('notice', [['name', message.name], ['event', ` ${message.type}`]], message.at)
      break
  }
}

/** @param {string} room */
function enterRoom (room) {
  connection?.stop()
  currentRoom = room
  roomTitle.textContent = `#${room}`
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  connection = new ReconnectingSocket(`${scheme}//${location.host}/chat/${encodeURIComponent(room)}`, {
    onMessage: onServerMessage,
    onState: showState,
    // A refused handshake after a server restart may be a session the server no longer knows
    // (a new COOKIE_SECRET): sign in again under the same name before retrying.
    beforeRetry: async (handshakeFailed) => {
      if (handshakeFailed && joinedAs !== undefined && await currentSession() === undefined) await startSession(joinedAs)
    }
  })
}

joinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  joinError.textContent = ''
  const room = roomInput.value.trim().toLowerCase()
  if (!ROOM_PATTERN.test(room)) {
    joinError.textContent = 'a room is 1–32 of a-z, 0-9, _ and -'
    return
  }
  startSession(nameInput.value).then((name) => {
    joinedAs = name
    nameInput.value = name
    if (location.hash.slice(1) !== room) history.replaceState(null, '', `#${room}`)
    enterRoom(room)
    messageInput.focus()
  }, (/** @type {Error} */ error) => { joinError.textContent = error.message })
})

sayForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = messageInput.value
  if (text.trim() === '') return
  if (connection?.send(JSON.stringify({ type: 'say', text })) === true) messageInput.value = ''
})

// Following a link to another room (#kitchen) while joined moves there.
addEventListener('hashchange', () => {
  const room = roomFromHash()
  roomInput.value = room
  if (joinedAs !== undefined && room !== currentRoom) enterRoom(room)
})

roomInput.value = roomFromHash()
showState('disconnected', 'enter a name and join')
currentSession().then((name) => { if (name !== undefined && nameInput.value === '') nameInput.value = name }, () => {})
