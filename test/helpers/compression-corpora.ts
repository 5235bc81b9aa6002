/**
 * Stand-ins for the five files of the Autobahn testsuite's compression cases (groups 12 and
 * 13), generated here from a seed: same sizes, same kinds of content, so each compresses
 * roughly as its original does. The originals (a JSON file, a 512x512 8-bit grey BMP, Goethe's
 * Faust from Project Gutenberg, an HTML page, a PDF) are not copied into this repository.
 *
 * `AutobahnMessages` hands out messages the way the suite's `sendOne` does: consecutive
 * slices of the file, wrapping around at its end, so consecutive messages differ and a lost or
 * reordered echo shows, while context takeover has similar text to refer back to.
 */

/** A deterministic 32-bit generator (xorshift32); `next()` returns 0 .. 2^32-1. */
export class Seeded {
  private state: number

  constructor (seed: number) {
    this.state = (seed >>> 0) || 0x9e3779b9
  }

  next (): number {
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x >>> 0
    return this.state
  }

  /** 0 .. n-1 */
  below (n: number): number {
    return this.next() % n
  }

  pick<T> (items: readonly T[]): T {
    return items[this.below(items.length)]
  }

  bytes (n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i += 4) {
      const v = this.next()
      out[i] = v & 0xff
      if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff
      if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff
      if (i + 3 < n) out[i + 3] = v >>> 24
    }
    return out
  }
}

/** One of the suite's test data files. */
export interface Corpus {
  /** The suite's subgroup title. */
  title: string
  /** Sent as binary (true) or as text (false), as the suite does. */
  binary: boolean
  data: Buffer
}

/** "Large JSON data file (utf8, 194056 bytes)": records of ids, names, flags and numbers. ASCII. */
export function jsonCorpus (size = 194056, seed = 12_1): Buffer {
  const random = new Seeded(seed)
  const firstNames = ['Anna', 'Ben', 'Chloe', 'David', 'Emma', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas']
  const tags = ['alpha', 'beta', 'gamma', 'delta', 'prod', 'staging', 'eu-west', 'us-east', 'mobile', 'desktop']
  const parts: string[] = ['[']
  let length = 1
  for (let id = 1; length < size; id++) {
    const record = JSON.stringify({
      id,
      guid: random.next().toString(16).padStart(8, '0') + '-' + random.next().toString(16).padStart(8, '0'),
      isActive: random.below(2) === 1,
      balance: `$${random.below(4000)}.${String(random.below(100)).padStart(2, '0')}`,
      age: 18 + random.below(60),
      name: `${random.pick(firstNames)} ${random.pick(firstNames)}son`,
      email: `user${random.below(100000)}@example.com`,
      registered: `20${10 + random.below(14)}-0${1 + random.below(9)}-1${random.below(10)}T0${random.below(10)}:1${random.below(10)}:00`,
      latitude: (random.below(180_000_000) / 1e6 - 90).toFixed(6),
      longitude: (random.below(360_000_000) / 1e6 - 180).toFixed(6),
      tags: [random.pick(tags), random.pick(tags), random.pick(tags)],
      friends: [{ id: random.below(100), name: random.pick(firstNames) }, { id: random.below(100), name: random.pick(firstNames) }]
    }, null, 2)
    const piece = (id === 1 ? '' : ',') + record
    parts.push(piece)
    length += piece.length
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size)
}

/**
 * "Lena Picture, Bitmap 512x512 bw (binary, 263222 bytes)": a BMP header, a 256-entry grey
 * palette and 512x512 8-bit pixels of smooth shapes with noise, like a photograph.
 */
export function bitmapCorpus (seed = 12_2): Buffer {
  const width = 512
  const height = 512
  const pixelOffset = 54 + 1024
  const out = Buffer.alloc(pixelOffset + width * height)
  out.write('BM', 0, 'latin1')
  out.writeUInt32LE(out.length, 2)
  out.writeUInt32LE(pixelOffset, 10)
  out.writeUInt32LE(40, 14)
  out.writeInt32LE(width, 18)
  out.writeInt32LE(height, 22)
  out.writeUInt16LE(1, 26)
  out.writeUInt16LE(8, 28)
  out.writeUInt32LE(width * height, 34)
  out.writeUInt32LE(256, 46)
  for (let i = 0; i < 256; i++) out.writeUInt32LE(i * 0x010101, 54 + i * 4)
  const random = new Seeded(seed)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 53) + 40 * Math.sin((x + y) / 91)
      const noise = random.below(9) - 4
      out[pixelOffset + y * width + x] = Math.max(0, Math.min(255, Math.round(base + noise)))
    }
  }
  return out
}

/**
 * "Human readable text, Goethe's Faust I (German) (binary, 222218 bytes)": German verse with
 * umlauts and ß (multi-byte UTF-8), speaker names and stage directions. Sent as binary by the
 * suite, so slices that cut a character in two are fine.
 */
export function germanTextCorpus (size = 222218, seed = 12_3): Buffer {
  const random = new Seeded(seed)
  const words = ['Habe', 'nun', 'ach', 'Philosophie', 'Juristerei', 'und', 'Medizin', 'leider', 'auch',
    'Theologie', 'durchaus', 'studiert', 'mit', 'heißem', 'Bemühn', 'Da', 'steh', 'ich', 'armer', 'Tor',
    'bin', 'so', 'klug', 'als', 'wie', 'zuvor', 'Geist', 'der', 'stets', 'verneint', 'Gretchen', 'Mephistopheles',
    'Schüler', 'Nacht', 'Studierzimmer', 'Welt', 'Himmel', 'Erde', 'Höll', 'Herz', 'Blut', 'Wort', 'Tat',
    'Augenblicke', 'verweile', 'doch', 'du', 'bist', 'schön', 'zwei', 'Seelen', 'wohnen', 'in', 'meiner', 'Brust',
    'grün', 'des', 'Lebens', 'goldner', 'Baum', 'Grau', 'teurer', 'Freund', 'ist', 'alle', 'Theorie', 'Mädchen', 'Straße']
  const speakers = ['FAUST.', 'MEPHISTOPHELES.', 'WAGNER.', 'MARGARETE.', 'MARTHE.', 'CHOR DER ENGEL.', 'SCHÜLER.']
  const parts: string[] = ['Faust: Der Tragödie erster Teil\n\n']
  let length = 0
  while (length < size) {
    let stanza = `${random.pick(speakers)}\n`
    const lines = 2 + random.below(7)
    for (let l = 0; l < lines; l++) {
      const count = 4 + random.below(6)
      const line: string[] = []
      for (let w = 0; w < count; w++) line.push(random.pick(words))
      stanza += line.join(' ') + (random.below(4) === 0 ? '!' : random.below(3) === 0 ? '?' : ',') + '\n'
    }
    if (random.below(5) === 0) stanza += `(${random.pick(speakers).slice(0, -1)} tritt auf, ab.)\n`
    stanza += '\n'
    parts.push(stanza)
    length += Buffer.byteLength(stanza)
  }
  return Buffer.from(parts.join(''), 'utf8').subarray(0, size)
}

/** "Large HTML file (utf8, 263527 bytes)": nested markup, attributes, inline CSS, links. ASCII. */
export function htmlCorpus (size = 263527, seed = 12_4): Buffer {
  const random = new Seeded(seed)
  const classes = ['nav', 'item', 'content', 'footer', 'header', 'card', 'btn btn-primary', 'row', 'col-md-6', 'hidden']
  const text = ['Lorem ipsum dolor sit amet', 'consectetur adipiscing elit', 'sed do eiusmod tempor', 'incididunt ut labore',
    'et dolore magna aliqua', 'Ut enim ad minim veniam', 'quis nostrud exercitation', 'ullamco laboris nisi']
  const parts: string[] = ['<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Data</title>\n',
    '<style>body{font-family:sans-serif;margin:0}.card{border:1px solid #ccc;padding:8px}</style>\n</head>\n<body>\n']
  let length = parts[0].length + parts[1].length
  for (let n = 0; length < size; n++) {
    const block = `<div class="${random.pick(classes)}" id="el-${n}">\n  <h2>${random.pick(text)}</h2>\n` +
      `  <p>${random.pick(text)}, <a href="/page/${random.below(5000)}?ref=${random.below(100)}">${random.pick(text)}</a>. ${random.pick(text)}.</p>\n` +
      `  <ul><li>${random.pick(text)}</li><li data-value="${random.below(1e6)}">${random.pick(text)}</li></ul>\n</div>\n`
    parts.push(block)
    length += block.length
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size)
}

/**
 * "A larger PDF (binary, 1042328 bytes)": PDF object syntax around FlateDecode streams, whose
 * bytes are already compressed (random here), so most of it does not compress again.
 */
export function pdfCorpus (size = 1042328, seed = 12_5): Buffer {
  const random = new Seeded(seed)
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')]
  let length = parts[0].length
  for (let n = 1; length < size; n++) {
    let piece: Buffer
    if (random.below(3) === 0) {
      piece = Buffer.from(`${n} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${n + 1} 0 R ` +
        `/Resources << /Font << /F1 ${random.below(40)} 0 R >> >> >>\nendobj\n`, 'latin1')
    } else {
      const streamLength = 500 + random.below(7500)
      piece = Buffer.concat([
        Buffer.from(`${n} 0 obj\n<< /Length ${streamLength} /Filter /FlateDecode >>\nstream\n`, 'latin1'),
        random.bytes(streamLength),
        Buffer.from('\nendstream\nendobj\n', 'latin1')
      ])
    }
    parts.push(piece)
    length += piece.length
  }
  return Buffer.concat(parts).subarray(0, size)
}

/** The five data sets in the suite's order of subgroups 12.1 to 12.5. */
export function autobahnCorpora (): Corpus[] {
  return [
    { title: 'Large JSON data file (utf8, 194056 bytes)', binary: false, data: jsonCorpus() },
    { title: 'Lena Picture, Bitmap 512x512 bw (binary, 263222 bytes)', binary: true, data: bitmapCorpus() },
    { title: "Human readable text, Goethe's Faust I (German) (binary, 222218 bytes)", binary: true, data: germanTextCorpus() },
    { title: 'Large HTML file (utf8, 263527 bytes)', binary: false, data: htmlCorpus() },
    { title: 'A larger PDF (binary, 1042328 bytes)', binary: true, data: pdfCorpus() }
  ]
}

/** The suite's message source: consecutive `length`-byte slices of `data`, wrapping at its end. */
export class AutobahnMessages {
  private pointer = 0

  constructor (private readonly data: Buffer, private readonly length: number) {}

  next (): Buffer {
    const from = this.pointer
    const to = (from + this.length) % this.data.length
    this.pointer = to
    if (this.length === 0) return Buffer.alloc(0)
    if (to > from) return this.data.subarray(from, to)
    return Buffer.concat([this.data.subarray(from), this.data.subarray(0, to)])
  }
}

/**
 * The suite's MSG_SIZES (autobahntestsuite/case/case12_x_x.py): [payload bytes, auto-fragment
 * size] for cases x.y.1 to x.y.18; 0 = not fragmented. The suite sends 1000 messages each.
 */
export const AUTOBAHN_MESSAGE_SIZES: ReadonlyArray<readonly [number, number]> = [
  [16, 0], [64, 0], [256, 0], [1024, 0], [4096, 0], [8192, 0], [16384, 0], [32768, 0], [65536, 0], [131072, 0],
  [8192, 256], [16384, 256], [32768, 256], [65536, 256], [131072, 256],
  [131072, 1024], [131072, 4096], [131072, 32768]
]
