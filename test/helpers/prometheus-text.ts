/**
 * Reads samples out of Prometheus' text exposition format, for tests of `/metrics` routes.
 *
 *   sample(text, 'http_requests_total', { code: '200' })   // 3, or 0 when absent
 */

/**
 * The sum of the samples `name{labels…} value` whose labels include all of `labels` (so a
 * label left out is summed over); 0 if there is none.
 */
export function sample (text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    if (!Object.entries(labels).every(([key, value]) => have[key] === value)) continue
    total += Number(match[3])
  }
  return total
}
