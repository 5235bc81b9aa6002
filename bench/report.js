// The report of bench/run.js: medians, per-repetition ratios, CPU and noise tables, as Markdown.
import { existsSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import os from 'node:os'

/**
 * Share of a core that went to something else during the measured window: on the server's
 * core, or on the load generator's. D (idle) has no window and counts as undisturbed.
 */
export function foreignLoad (r) {
  if (r.cpu0_busy === undefined) return 0
  return Math.max(r.cpu0_busy - r.server_cpu_util, r.cpu1_busy - r.loadgen_cpu_util)
}

// ---------------------------------------------------------------- statistics

export function median (values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** (max - min) / median, as a percentage. */
function spread (values) {
  const v = values.filter((x) => Number.isFinite(x))
  if (v.length < 2) return NaN
  return (Math.max(...v) - Math.min(...v)) / median(v) * 100
}

export function fmt (value, digits) {
  if (!Number.isFinite(value)) return '–'
  if (digits !== undefined) return value.toFixed(digits)
  const abs = Math.abs(value)
  if (abs >= 100000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

function versionOf (root, pkg) {
  try { return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version } catch { return '?' }
}

export function gitDescribe (root) {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${rev} (src/ has uncommitted changes)` : rev
  } catch {
    return '?'
  }
}

// ---------------------------------------------------------------- the report

/**
 * The metric over repetitions. Runs that were still disturbed by other work after their re-runs
 * are left out, unless that would leave nothing.
 */
function valuesOfRuns (runs, scenario, server, key) {
  const all = runs.filter((r) => r.scenario === scenario && r.server === server && r.result)
  const clean = all.filter((r) => !r.result.disturbed)
  return (clean.length ? clean : all).map((r) => r.result[key])
}

/** ours / other per repetition, for the runs where both exist; `disturbed` if either was. */
function ratioEntriesOf (reps, runs, scenario, other, key) {
  const out = []
  for (let rep = 1; rep <= reps; rep++) {
    const ours = runs.find((r) => r.rep === rep && r.scenario === scenario && r.server === 'ours' && r.result)
    const them = runs.find((r) => r.rep === rep && r.scenario === scenario && r.server === other && r.result)
    if (ours && them) out.push({ value: ours.result[key] / them.result[key], disturbed: Boolean(ours.result.disturbed || them.result.disturbed) })
  }
  return out
}

/** The ratios that count: undisturbed ones, unless there are none. */
function ratiosOfRuns (reps, runs, scenario, other, key) {
  const entries = ratioEntriesOf(reps, runs, scenario, other, key)
  const clean = entries.filter((e) => !e.disturbed)
  return (clean.length ? clean : entries).map((e) => e.value)
}

/**
 * Renders the report. `raw` is what run.js saves in bench/.work/results-*.json; `context` says
 * which servers and scenarios ran, with which profile (durations, repetitions).
 */
export function renderReport ({ startedAt, seconds, loadBefore, loadAfter, waitedSeconds, retried, runs, revision }, context) {
  const { P, servers, scenarios, quick: QUICK, havePinning, root } = context
  const valuesOf = valuesOfRuns
  // Some scenarios run more repetitions than the profile's (E: at least 5).
  const reps = Math.max(P.reps, ...runs.map((r) => r.rep))
  const ratioEntries = (...a) => ratioEntriesOf(reps, ...a)
  const ratiosOf = (...a) => ratiosOfRuns(reps, ...a)
  const has = (id) => servers.some((s) => s.id === id)
  const lines = []
  const summary = []
  const cmd = QUICK ? 'npm run bench -- --quick' : 'npm run bench'
  lines.push('# Benchmark results', '')
  lines.push(`Produced by \`${cmd}\` (bench/run.js) on ${startedAt.toISOString()}, ${P.reps} repetition(s)${reps > P.reps ? ` (${reps} for the scenarios that ask for more: ${scenarios.filter((sc) => sc.minReps > P.reps).map((sc) => sc.id).join(', ')})` : ''}, ${seconds.toFixed(0)} s in all.`)
  lines.push('Each number is the median over repetitions; ratios are ours ÷ the other server **within one repetition** (runs of the same scenario are adjacent in time), listed per repetition with their median first.', '')

  lines.push('## Versions and machine', '')
  lines.push(`- this plugin: ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} at ${revision ?? gitDescribe(root)}, dist/ as built when the run started (run from a snapshot in bench/.work/snapshot)`)
  lines.push(`- node ${process.version}, ws ${versionOf(root, 'ws')}, bufferutil ${versionOf(root, 'bufferutil')}, @fastify/websocket ${versionOf(root, '@fastify/websocket')}, fastify ${versionOf(root, 'fastify')}`)
  lines.push(`- ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; load average ${loadBefore} before, ${loadAfter} after`)
  lines.push(`- server pinned to CPU 0 and load generator (bench/loadgen.c, \`cc -O2\`, one epoll thread) to CPU 1 with taskset${havePinning ? '' : ' — **pinning was unavailable, runs were unpinned**'}; everything on 127.0.0.1, a fresh server process and port per run`)
  lines.push(`- before each run the harness waited for the machine to be quiet (< 0.25 busy cores), ${waitedSeconds.toFixed(0)} s in all; ${retried} run(s) disturbed by other work (> 0.15 of a core on either CPU) were run again, up to twice, within the time budget`)
  lines.push(`- per run: ${P.warmup} s warm-up, then ${P.duration} s measured (C: ${P.handshakeDuration} s); D opens ${P.idleStage} then ${P.idleConns} connections`)
  lines.push('- `@fastify/websocket` runs on `ws` with `bufferutil` loaded (it is installed); `ws` runs with `WS_NO_BUFFER_UTIL=1`, `ws+bufferutil` without')
  lines.push('- E: the load generator busy-polls its core (its util reads 1.00 by design), so waking it does not add to the round trips; the server core still sleeps between messages, as a real server would', '')

  const headline = []
  headline.push('| scenario | metric | ours | ws | ws+bufferutil | @fastify/websocket | ours ÷ @fastify/websocket | ours ÷ ws | ours ÷ ws+bufferutil | target (÷ @fastify/websocket) |')
  headline.push('| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |')
  const ratioCell = (scenarioId, other, key) => {
    const entries = ratioEntries(runs, scenarioId, other, key)
    if (entries.length === 0) return '–'
    const list = entries.map((e) => fmt(e.value, 2) + (e.disturbed ? '†' : '')).join(', ')
    return `**${fmt(median(ratiosOf(runs, scenarioId, other, key)), 2)}×** (${list})`
  }
  for (const scenario of scenarios) {
    const keys = [scenario.metric, ...(scenario.extra ?? [])]
    for (const key of keys) {
      const med = (id) => has(id) ? fmt(median(valuesOf(runs, scenario.id, id, key))) : 'n/a'
      const rf = ratiosOf(runs, scenario.id, 'fws', key)
      const unit = key === scenario.metric ? scenario.unit : key.replace('_us', '').replace('p', 'µs p')
      let target = ''
      const goalOf = key === scenario.metric ? scenario.target : scenario.extraTargets?.[key]
      if (goalOf !== undefined && rf.length) {
        const [op, goal] = goalOf
        const m = median(rf)
        const met = op === '>=' ? m >= goal : m <= goal
        target = `${op === '>=' ? '≥' : '≤'} ${goal}×: ${met ? 'met' : '**not met**'}`
      }
      headline.push(`| ${key === scenario.metric ? scenario.title : ''} | ${unit} | ${med('ours')} | ${med('ws')} | ${med('ws-bu')} | ${med('fws')} | ${ratioCell(scenario.id, 'fws', key)} | ${ratioCell(scenario.id, 'ws', key)} | ${ratioCell(scenario.id, 'ws-bu', key)} | ${target} |`)
    }
  }
  const stillDisturbed = runs.filter((r) => r.result?.disturbed)
  lines.push('## Results', '', ...headline, '')
  if (stillDisturbed.length) {
    lines.push(`† a repetition in which ours or the other server ran while other work took more than 0.15 of a core, even after re-runs (${stillDisturbed.map((r) => `rep ${r.rep} ${r.scenario} ${r.server}`).join(', ')}); it is listed but left out of the medians.`, '')
  }
  lines.push('Higher is better for A, B (MB = 10⁶ bytes of echoed payload per second), C and F; lower is better for D (server VmRSS after the connections are open minus before, ÷ connections) and E (round-trip time of a 64 B message, from its actual send). F runs every server with permessage-deflate on (`DEFLATE=1`); its load generator compresses what it sends and inflates what comes back, so its own util is higher than in A.', '')

  // CPU and load-boundness
  lines.push('## Server CPU and what bound each run', '')
  lines.push('Server CPU-seconds during the measured window (D: while opening the connections), from /proc/<pid>/stat utime+stime, median over repetitions; util = CPU-seconds ÷ wall seconds (1.00 = the server saturated its core, which is what a throughput run should show). `loadgen` is the load generator\'s own util on its core; `foreign` = busy time of the server\'s core not charged to the server (other processes, interrupts, and kernel network work that Linux does not charge to the process) ÷ wall seconds (the kernel counts the two by different clocks, so ±0.03 is rounding).', '')
  lines.push('`server writes/msg` and `reads/msg` count the server\'s write and read system calls (writev and readv included, from /proc/<pid>/io) per echoed message: 1.00 writes/msg means one system call per reply; 0.03 means the replies to one incoming chunk of 32 messages left in one call.', '')
  lines.push('| scenario | server | CPU-s | util | loadgen util | foreign on CPU 0 | server writes/msg | server reads/msg |')
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  const flags = []
  for (const scenario of scenarios) {
    for (const def of servers) {
      const rs = runs.filter((r) => r.scenario === scenario.id && r.server === def.id && r.result).map((r) => r.result)
      const rsClean = rs.filter((r) => !r.disturbed).length ? rs.filter((r) => !r.disturbed) : rs
      if (rs.length === 0) continue
      const cpu = median(rsClean.map((r) => r.server_cpu_s))
      const util = median(rsClean.map((r) => r.server_cpu_util))
      const lg = median(rsClean.map((r) => r.loadgen_cpu_util))
      const foreign = median(rsClean.map((r) => r.cpu0_busy - r.server_cpu_util))
      const writes = median(rsClean.map((r) => r.server_writes_per_msg))
      const reads = median(rsClean.map((r) => r.server_reads_per_msg))
      lines.push(`| ${scenario.id} | ${def.label} | ${fmt(cpu, 2)} | ${fmt(util, 2)} | ${fmt(lg, 2)} | ${fmt(foreign, 2)} | ${fmt(writes, 3)} | ${fmt(reads, 3)} |`)
      for (const r of rs) {
        if (scenario.kind === 'echo' || scenario.kind === 'handshake') {
          if (r.loadgen_cpu_util > 0.9) flags.push(`${scenario.id} ${def.label}: load generator util ${fmt(r.loadgen_cpu_util, 2)} — may be load-bound`)
          else if (r.server_cpu_util < 0.85) flags.push(`${scenario.id} ${def.label}: server util only ${fmt(r.server_cpu_util, 2)} (foreign ${fmt(r.cpu0_busy - r.server_cpu_util, 2)}) — not server-bound`)
        }
        if (r.cpu0_busy - (r.server_cpu_util ?? 0) > 0.25 && scenario.kind !== 'idle') flags.push(`${scenario.id} ${def.label}: ${fmt(r.cpu0_busy - r.server_cpu_util, 2)} of CPU 0 went to something other than the server`)
        if (r.errors) flags.push(`${scenario.id} ${def.label}: ${r.errors} connection error(s): ${r.first_error}`)
        if (r.eof_timeouts) flags.push(`${scenario.id} ${def.label}: ${r.eof_timeouts} handshake(s) where the server did not close TCP within 1 s of the close frame`)
      }
    }
  }
  lines.push('')

  // Noise
  lines.push('## Noise', '')
  lines.push('Spread = (max − min) ÷ median of the headline metric across repetitions (undisturbed ones), per server. Absolute numbers drift with the machine; the within-repetition ratios above are the figures to compare.', '')
  lines.push(`| scenario | ${servers.map((s) => s.label).join(' | ')} | ratio ÷ @fastify/websocket |`)
  lines.push(`| --- | ${servers.map(() => '---:').join(' | ')} | ---: |`)
  for (const scenario of scenarios) {
    const cells = servers.map((s) => fmt(spread(valuesOf(runs, scenario.id, s.id, scenario.metric)), 0) + '%')
      lines.push(`| ${scenario.id} | ${cells.join(' | ')} | ${fmt(spread(ratiosOf(runs, scenario.id, 'fws', scenario.metric)), 0)}% |`)
  }
  lines.push('')
  const idleRuns = runs.filter((r) => r.scenario === 'D' && r.result)
  if (idleRuns.length) {
    lines.push('D detail (median): marginal KiB per connection between the two stages, which leaves out one-time costs such as code compiled on the first connection:', '')
    lines.push(servers.map((s) => `${s.label} ${fmt(median(valuesOf(runs, 'D', s.id, 'marginal_kib_per_conn')))} KiB (opened in ${fmt(median(valuesOf(runs, 'D', s.id, 'open_s')))} s)`).join('; '), '')
  }
  const latencyRuns = runs.filter((r) => r.scenario === 'E' && r.result)
  if (latencyRuns.length) {
    lines.push('E detail (median): p99.9 / max / p99 measured from the scheduled send time (counts time a send waited behind the previous reply) / sends more than 1 ms late:', '')
    lines.push(servers.map((s) => `${s.label} ${fmt(median(valuesOf(runs, 'E', s.id, 'p999_us')))} / ${fmt(median(valuesOf(runs, 'E', s.id, 'max_us')))} / ${fmt(median(valuesOf(runs, 'E', s.id, 'sched_p99_us')))} µs / ${fmt(median(valuesOf(runs, 'E', s.id, 'late_sends')))}`).join('; '), '')
  }
  const failures = runs.filter((r) => r.error)
  if (flags.length || failures.length) {
    lines.push('## Warnings', '')
    for (const f of failures) lines.push(`- rep ${f.rep} ${f.scenario} ${f.server}: FAILED ${f.error}`)
    for (const f of flags) lines.push(`- ${f}`)
    lines.push('')
  }
  // The hand-written analysis (profiles, what stands in the way) travels with every report.
  const notes = join(root, 'bench', 'results-notes.md')
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8').trimEnd(), '')
  lines.push('## Reproduce', '')
  lines.push('```sh',
    'npm run bench                     # full run, < 10 min, writes bench/RESULTS.md',
    'npm run bench -- --quick          # < 2 min',
    'node bench/micro/codec.js         # codec micro-benchmarks (after npm run build)',
    'node bench/profile.js --scenario A-bin   # CPU profile of ours, top self-time functions',
    'node bench/idle-capacity.js       # the most idle connections one process holds, heartbeat CPU',
    'node bench/redis-fanout-e2e.js    # topic fan-out across two instances through Redis',
    '```', '')
  lines.push('Raw per-run JSON: bench/.work/results-*.json (not committed). Servers: bench/server.js (ours), bench/servers/ws.js, bench/servers/fastify-websocket.js.', '')

  summary.push(...headline)
  if (flags.length) summary.push('', `${flags.length} warning(s), see the report`)
  return { markdown: lines.join('\n'), summary: summary.join('\n') }
}

