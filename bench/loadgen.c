/*
 * WebSocket load generator for the benchmark harness (bench/run.js builds it with `cc -O2`).
 *
 * One thread, one epoll loop, the same code for every server. It does the HTTP upgrade itself
 * (and checks the 101 and Sec-WebSocket-Accept), sends pre-encoded masked frames (RFC 6455
 * §5.3: non-zero mask key), and parses the server's unmasked frames incrementally, checking
 * every echoed byte against what was sent. It reads the server's CPU time from
 * /proc/<pid>/stat at the start and end of the measured window (--server-pid), and its own
 * from getrusage, so a result bound by the load generator shows as such.
 *
 * Modes (one JSON line on stdout per run; progress events are JSON lines too):
 *   echo       --conns C --inflight K --size S [--text] [--json] [--deflate] --warmup W --duration D
 *              C connections each keep K messages in flight; every frame owed to a connection
 *              goes out in one write (EPOLLOUT on partial writes). Reports messages/s and MB/s.
 *              --json: text messages of S bytes of JSON-like records, 64 different ones sent in
 *              turn (so a compressor's context sees similar, not identical, messages).
 *              --deflate: offers `permessage-deflate; client_max_window_bits` (RFC 7692), fails
 *              a connection the server does not agree it on, compresses every message it sends
 *              (one zlib stream per connection, a sync flush per message, tail stripped, RSV1;
 *              context takeover unless the server asked otherwise) and inflates every echo that
 *              has RSV1 with the agreed window before comparing it byte for byte.
 *   handshake  --conns P --warmup W --duration D
 *              P concurrent loops of: connect, upgrade, send close 1000, read the close,
 *              wait for the server to close TCP (RFC 6455 §7.1.1; 1 s cap), close. conns/s.
 *   idle       --conns N [--stage M] [--sources K]
 *              Opens M connections (if --stage), prints {"event":"ready"}, waits for a line on
 *              stdin, opens up to N, prints ready again, then holds them until stdin closes or
 *              SIGTERM. The runner reads the server's VmRSS at each ready. Answers pings (so
 *              heartbeats can stay on); --sources K binds to 127.0.0.1..K in turn.
 *   fanout     --conns N --path P [--sources K]
 *              Opens N connections to path P, prints {"event":"ready"}, then receives what the
 *              server sends them (a topic's fan-out) until stdin closes or SIGTERM: binary
 *              messages whose first 8 bytes are the publisher's CLOCK_MONOTONIC in ns (little
 *              endian; Node's process.hrtime.bigint()). Prints messages received, the span
 *              from the first to the last, and the publish-to-receipt latency percentiles.
 *   latency    --conns C --rate R --size S --warmup W --duration D
 *              A fixed total rate R msg/s spread evenly over C connections, one message in
 *              flight per connection. Round-trip times from the actual send ("rtt") and from
 *              the scheduled send ("rtt_sched", which also counts time spent late). The loop
 *              busy-polls its own core (--no-spin: sleep on a timerfd until the next send).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

enum { M_ECHO, M_HANDSHAKE, M_IDLE, M_LATENCY, M_FANOUT };
enum { ST_FREE, ST_CONNECTING, ST_HS_SENT, ST_OPEN, ST_CLOSE_SENT, ST_WAIT_EOF };
enum { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DONE };

#define HS_MAX 1024
#define READ_BUF (256 * 1024)
#define TAG_STDIN (-1)
#define TAG_TIMER (-2)

typedef struct {
  int fd;
  int state;
  int want_out;       /* EPOLLOUT registered */
  int hs_len;
  char hs[HS_MAX];    /* the server's handshake response, until its blank line */
  /* frame parser */
  int hdr_len;
  int in_payload;
  int opcode;
  uint8_t hdr[14];
  uint64_t payload_left, payload_pos;
  uint8_t ctl[128];
  /* echo */
  uint64_t out_pending;   /* bytes owed to the socket */
  uint64_t out_off;       /* position inside the frame cycle of the next byte */
  /* latency */
  double next_send, sent_at, sched_at;
  int waiting;
  /* handshake */
  double deadline;
  /* --json / --deflate */
  uint32_t seq_sent, seq_recv; /* messages queued / echoes verified: echo k is message k */
  int rsv1;                    /* the frame being read is compressed */
  uint8_t *obuf;               /* encoded frames not yet written */
  size_t olen, ooff, ocap;
  uint8_t *cbuf;               /* the compressed payload being read */
  size_t clen, ccap;
  z_stream *dz, *iz;           /* our compressor, our decompressor of the server's messages */
  int server_no_ctx, client_no_ctx, server_bits, client_bits;
} conn_t;

/* options */
static int mode = M_ECHO;
static const char *host = "127.0.0.1";
static int port = 9001;
static int nconns = 100;
static int inflight = 32;
static size_t msg_size = 64;
static int text = 0;
static int json = 0;           /* varying JSON-like text messages (a pool, sent in turn) */
static int deflate_on = 0;     /* permessage-deflate (RFC 7692) */
#define POOL 64
static uint8_t *pool[POOL];
static uint8_t *zscratch;      /* one message's compressed bytes, or an echo inflated */
static size_t zscratch_cap;
static uint8_t *inflated;
static double warmup = 1.0, duration = 3.0;
static double rate = 20000;
static int stage = 0;
static int server_pid = 0;
static int max_connecting = 256;
static double fanout_first = 0, fanout_last = 0; /* fanout: first and last receipt */
static uint64_t pongs_sent = 0;  /* idle: pings answered */
static const char *path = "/";   /* fanout: the path to open */
static int sources = 1;          /* --sources N: bind to 127.0.0.1..N in turn */
static int spin = 1;           /* latency: busy-poll instead of sleeping until the next send */

/* state */
static int ep;
static int tfd;
static conn_t *conns;
static int conn_cap;
static uint8_t *payload;       /* the expected payload of every data frame */
static uint8_t *frame;          /* one pre-encoded masked frame */
static size_t frame_len;
static uint8_t *batch;          /* (inflight + 1) copies of the frame, back to back */
static size_t batch_len;
static uint8_t close_frame[8];
static char request[512];
static size_t request_len;
static const char *expected_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; /* RFC 6455 §1.3 sample key */
static uint8_t rbuf[READ_BUF];

static volatile sig_atomic_t stop_flag = 0;
static int phase = PH_CONNECT;
static double t_phase;          /* when the current phase began */
static double t_measure_start, t_measure_end;
static int open_count = 0, connecting = 0, live = 0;
static int target = 0;          /* idle: connections wanted now */
static uint64_t msgs_total = 0, msgs_measured = 0;
static uint64_t hs_measured = 0, hs_total = 0, eof_timeouts = 0;
static uint64_t errors = 0;
static char first_error[256] = "";
static int stdin_open = 1;
static double armed_at = -1;

/* latency samples (microseconds) */
static double *rtt, *rtt_sched;
static size_t nrtt = 0, rtt_cap = 0;
static uint64_t late_sends = 0, sent_measured = 0;

/* cpu snapshots */
typedef struct {
  double server, self, cpu0, cpu1;
  long rss_kib;
  long long srv_reads, srv_writes;   /* the server's read / write system calls (/proc/<pid>/io) */
  uint64_t reads, writes;            /* ours */
} cpu_snap;
static uint64_t n_reads = 0, n_writes = 0;
static cpu_snap snap_start, snap_end;

static double now_s (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die (const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("{\"error\":\"%s\"}\n", msg);
  fflush(stdout);
  exit(2);
}

static void note_error (const char *what) {
  errors++;
  if (first_error[0] == 0) snprintf(first_error, sizeof first_error, "%s", what);
}

/* ---- /proc readings ---- */

static double proc_cpu_s (int pid) {
  if (pid <= 0) return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  /* after ")": field 3 (state) ... field 14 utime, field 15 stime */
  unsigned long long ut = 0, st = 0;
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
    field++;
    if (field == 14) ut = strtoull(tok, NULL, 10);
    if (field == 15) { st = strtoull(tok, NULL, 10); break; }
  }
  return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static long proc_rss_kib (int pid) {
  if (pid <= 0) return 0;
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long kib = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
  }
  fclose(f);
  return kib;
}

/* syscr / syscw of a process: its read and write system calls (readv/writev included). */
static void proc_io (int pid, long long *reads, long long *writes) {
  *reads = *writes = -1;
  if (pid <= 0) return;
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/%d/io", pid);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "syscr:", 6) == 0) *reads = strtoll(line + 6, NULL, 10);
    else if (strncmp(line, "syscw:", 6) == 0) *writes = strtoll(line + 6, NULL, 10);
  }
  fclose(f);
}

/* Busy (non-idle, non-iowait) seconds of one core from /proc/stat. */
static double core_busy_s (int core) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return -1;
  char line[512], want[16];
  snprintf(want, sizeof want, "cpu%d ", core);
  double busy = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, want, strlen(want)) == 0) {
      unsigned long long v[10] = {0};
      sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu",
             &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
      unsigned long long total = 0;
      for (int i = 0; i < 8; i++) total += v[i];
      busy = (double)(total - v[3] - v[4]) / sysconf(_SC_CLK_TCK);
      break;
    }
  }
  fclose(f);
  return busy;
}

static double self_cpu_s (void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void take_snap (cpu_snap *s) {
  s->server = proc_cpu_s(server_pid);
  s->self = self_cpu_s();
  s->cpu0 = core_busy_s(0);
  s->cpu1 = core_busy_s(1);
  s->rss_kib = proc_rss_kib(server_pid);
  proc_io(server_pid, &s->srv_reads, &s->srv_writes);
  s->reads = n_reads;
  s->writes = n_writes;
}

/* ---- frames ---- */

static size_t encode_frame (uint8_t *out, int opcode, const uint8_t *data, size_t len, const uint8_t mask[4]) {
  size_t o = 0;
  out[o++] = 0x80 | opcode;
  if (len < 126) {
    out[o++] = 0x80 | len;
  } else if (len < 65536) {
    out[o++] = 0x80 | 126;
    out[o++] = len >> 8;
    out[o++] = len & 0xff;
  } else {
    out[o++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) out[o++] = ((uint64_t)len >> (8 * i)) & 0xff;
  }
  memcpy(out + o, mask, 4);
  o += 4;
  for (size_t i = 0; i < len; i++) out[o + i] = data[i] ^ mask[i & 3];
  return o + len;
}

/* --json: POOL messages of exactly msg_size bytes of JSON-like records (ASCII). */
static void build_pool (void) {
  static const char *status[] = { "online", "away", "busy", "offline" };
  for (int k = 0; k < POOL; k++) {
    pool[k] = malloc(msg_size + 256);
    uint32_t x = 2166136261u ^ (uint32_t)k * 16777619u;
    size_t n = (size_t)snprintf((char *)pool[k], 64, "{\"type\":\"update\",\"seq\":%d,\"items\":[", k);
    while (n < msg_size) {
      x = x * 1103515245u + 12345u;
      n += (size_t)snprintf((char *)pool[k] + n, 200, "{\"id\":%u,\"user\":\"user%u\",\"status\":\"%s\",\"score\":%u.%02u},",
                            x % 100000, (x >> 8) % 977, status[(x >> 4) & 3], (x >> 12) % 1000, (x >> 20) % 100);
    }
  }
  zscratch_cap = compressBound(msg_size) + 64;
  zscratch = malloc(zscratch_cap);
  inflated = malloc(msg_size + 1);
}

/* What echo number `seq` must contain. */
static const uint8_t *expected_payload (uint32_t seq) {
  return json ? pool[seq % POOL] : payload;
}

static void obuf_reserve (conn_t *c, size_t more) {
  if (c->olen + more <= c->ocap) return;
  if (c->ooff > 0) { /* drop what was written */
    memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
    c->olen -= c->ooff;
    c->ooff = 0;
    if (c->olen + more <= c->ocap) return;
  }
  c->ocap = (c->olen + more) * 2;
  c->obuf = realloc(c->obuf, c->ocap);
  if (!c->obuf) die("out of memory");
}

/* Appends one masked frame: FIN, opcode, RSV1 when compressed (RFC 7692 §6.1). */
static void obuf_frame (conn_t *c, int opcode, int rsv1, const uint8_t *data, size_t len) {
  static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  obuf_reserve(c, len + 14);
  size_t o = encode_frame(c->obuf + c->olen, opcode, data, len, mask);
  if (rsv1) c->obuf[c->olen] |= 0x40;
  c->olen += o;
}

/* Queues the connection's next message (compressed with --deflate) into its output buffer. */
static void queue_message (conn_t *c) {
  const uint8_t *msg = expected_payload(c->seq_sent++);
  if (!deflate_on) { obuf_frame(c, text ? 1 : 2, 0, msg, msg_size); return; }
  z_stream *z = c->dz;
  z->next_in = (Bytef *)msg;
  z->avail_in = (uInt)msg_size;
  z->next_out = zscratch;
  z->avail_out = (uInt)zscratch_cap;
  /* RFC 7692 §7.2.1: compress, then a sync flush, whose 00 00 ff ff tail is removed. */
  if (deflate(z, Z_SYNC_FLUSH) != Z_OK || z->avail_in != 0 || z->avail_out == 0) die("deflate failed");
  size_t n = zscratch_cap - z->avail_out;
  if (n < 4 || memcmp(zscratch + n - 4, "\x00\x00\xff\xff", 4) != 0) die("deflate output lacks the sync flush tail");
  if (c->client_no_ctx) deflateReset(z);
  obuf_frame(c, text ? 1 : 2, 1, zscratch, n - 4);
}

/*
 * Reads the server's answer (RFC 7692 §7.1) from the 101 head. Returns 0 and sets the
 * connection's parameters, or -1 with `why` set: no permessage-deflate, an unknown parameter,
 * a window outside 8..15.
 */
static int parse_deflate_answer (conn_t *c, const char *head, size_t head_len, char *why, size_t why_len) {
  char buf[HS_MAX];
  memcpy(buf, head, head_len);
  buf[head_len] = 0;
  char *line = strcasestr(buf, "\r\nSec-WebSocket-Extensions:");
  if (!line) { snprintf(why, why_len, "server declined permessage-deflate"); return -1; }
  line += strlen("\r\nSec-WebSocket-Extensions:");
  char *end = strstr(line, "\r\n");
  if (end) *end = 0;
  c->server_no_ctx = c->client_no_ctx = 0;
  c->server_bits = c->client_bits = 15;
  int first = 1;
  for (char *part = strtok(line, ";"); part; part = strtok(NULL, ";"), first = 0) {
    while (*part == ' ' || *part == '\t') part++;
    char *tail = part + strlen(part);
    while (tail > part && (tail[-1] == ' ' || tail[-1] == '\t')) *--tail = 0;
    if (first) {
      if (strcmp(part, "permessage-deflate") != 0) { snprintf(why, why_len, "unexpected extension %.40s", part); return -1; }
      continue;
    }
    int bits;
    if (strcmp(part, "server_no_context_takeover") == 0) c->server_no_ctx = 1;
    else if (strcmp(part, "client_no_context_takeover") == 0) c->client_no_ctx = 1;
    else if (sscanf(part, "server_max_window_bits=%d", &bits) == 1 && bits >= 8 && bits <= 15) c->server_bits = bits;
    else if (sscanf(part, "client_max_window_bits=%d", &bits) == 1 && bits >= 8 && bits <= 15) c->client_bits = bits;
    else { snprintf(why, why_len, "unexpected permessage-deflate parameter %.40s", part); return -1; }
  }
  return 0;
}

static void deflate_init (conn_t *c) {
  c->dz = calloc(1, sizeof *c->dz);
  c->iz = calloc(1, sizeof *c->iz);
  /* zlib refuses an 8-bit raw deflate window; 9 stays within 256 bytes (MAX_DIST = 250). */
  if (deflateInit2(c->dz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -(c->client_bits == 8 ? 9 : c->client_bits), 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit2");
  if (inflateInit2(c->iz, -c->server_bits) != Z_OK) die("inflateInit2");
}

static void deflate_free (conn_t *c) {
  if (c->dz) { deflateEnd(c->dz); free(c->dz); c->dz = NULL; }
  if (c->iz) { inflateEnd(c->iz); free(c->iz); c->iz = NULL; }
  free(c->obuf); c->obuf = NULL; c->olen = c->ooff = c->ocap = 0;
  free(c->cbuf); c->cbuf = NULL; c->clen = c->ccap = 0;
}

/* Inflates the compressed echo just read and compares it with message `seq_recv`. */
static int check_compressed_echo (conn_t *c) {
  static const uint8_t tail[4] = { 0x00, 0x00, 0xff, 0xff };
  z_stream *z = c->iz;
  z->next_out = inflated;
  z->avail_out = (uInt)msg_size + 1; /* one spare byte: an echo longer than the message shows */
  int rc = Z_OK;
  for (int pass = 0; pass < 2 && rc == Z_OK; pass++) {
    /* RFC 7692 §7.2.2: the payload, then the tail the sender removed. */
    z->next_in = pass == 0 ? c->cbuf : (Bytef *)tail;
    z->avail_in = pass == 0 ? (uInt)c->clen : 4;
    rc = inflate(z, Z_SYNC_FLUSH);
    if (rc == Z_BUF_ERROR && z->avail_in == 0) rc = Z_OK; /* no progress needed: all consumed */
    if (rc == Z_OK && z->avail_in != 0) rc = Z_BUF_ERROR;   /* output full: too long */
  }
  if (rc != Z_OK) return -1;
  size_t n = msg_size + 1 - z->avail_out;
  if (c->server_no_ctx) inflateReset(z);
  return n == msg_size && memcmp(inflated, expected_payload(c->seq_recv), msg_size) == 0 ? 0 : -1;
}

static void build_frames (void) {
  payload = malloc(msg_size ? msg_size : 1);
  /* Text payloads are printable ASCII (valid UTF-8); binary ones cover every byte value. */
  for (size_t i = 0; i < msg_size; i++) payload[i] = text ? (uint8_t)('a' + (i * 7) % 26) : (uint8_t)(i * 31 + 7);
  if (json) build_pool();
  static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d }; /* the RFC 6455 §5.7 example key */
  frame = malloc(msg_size + 14);
  frame_len = encode_frame(frame, text ? 1 : 2, payload, msg_size, mask);
  int copies = (mode == M_ECHO ? inflight : 1) + 1;
  batch_len = frame_len * copies;
  batch = malloc(batch_len);
  for (int i = 0; i < copies; i++) memcpy(batch + i * frame_len, frame, frame_len);
  static const uint8_t code[2] = { 0x03, 0xe8 }; /* 1000 */
  encode_frame(close_frame, 8, code, 2, mask);
  request_len = snprintf(request, sizeof request,
    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, host, port,
    deflate_on ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
}

/* ---- epoll plumbing ---- */

static void ep_set (conn_t *c, int op, int out) {
  struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - conns) };
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
  c->want_out = out;
}

static void arm_timer (double at) {
  if (at == armed_at) return;
  armed_at = at;
  struct itimerspec its = { 0 };
  if (at > 0) {
    its.it_value.tv_sec = (time_t)at;
    its.it_value.tv_nsec = (long)((at - (time_t)at) * 1e9);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  }
  timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void open_conn (void);

static void conn_close (conn_t *c) {
  if (c->state == ST_FREE) return;
  if (c->state == ST_CONNECTING || c->state == ST_HS_SENT) connecting--;
  else open_count--;
  close(c->fd); /* also removes it from the epoll set */
  deflate_free(c);
  c->state = ST_FREE;
  c->fd = -1;
  live--;
}

static void conn_fail (conn_t *c, const char *why) {
  note_error(why);
  conn_close(c);
}

static conn_t *alloc_conn (void) {
  for (int i = 0; i < conn_cap; i++) if (conns[i].state == ST_FREE) return &conns[i];
  return NULL;
}

static int free_hint = 0;
static conn_t *alloc_conn_fast (void) {
  for (int n = 0; n < conn_cap; n++) {
    int i = (free_hint + n) % conn_cap;
    if (conns[i].state == ST_FREE) { free_hint = i + 1; return &conns[i]; }
  }
  return alloc_conn();
}

static void open_conn (void) {
  conn_t *c = alloc_conn_fast();
  if (!c) die("no free connection slot");
  memset(c, 0, sizeof *c);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (sources > 1) {
    /* Source addresses 127.0.0.1..N in turn: past one address's ephemeral ports. */
    static uint32_t next_source = 0;
    struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = 0 };
    local.sin_addr.s_addr = htonl(0x7f000001u + next_source++ % (uint32_t)sources);
    /* The port is chosen at connect(), for the whole 4-tuple: TIME_WAIT leftovers of earlier
     * runs on the same address do not block it. */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind: %s", strerror(errno));
  }
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, host, &sa.sin_addr);
  c->fd = fd;
  c->state = ST_CONNECTING;
  connecting++;
  live++;
  int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  if (r < 0 && errno != EINPROGRESS) {
    char why[96];
    snprintf(why, sizeof why, "connect: %s", strerror(errno));
    ep_set(c, EPOLL_CTL_ADD, 0);
    conn_fail(c, why);
    return;
  }
  ep_set(c, EPOLL_CTL_ADD, 1);
}

/* ---- echo / latency sending ---- */

/* --json / --deflate: writes the connection's output buffer (frames differ per message). */
static void flush_obuf (conn_t *c) {
  while (c->ooff < c->olen) {
    ssize_t w = write(c->fd, c->obuf + c->ooff, c->olen - c->ooff);
    n_writes++;
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      char why[96];
      snprintf(why, sizeof why, "write: %s", strerror(errno));
      conn_fail(c, why);
      return;
    }
    c->ooff += w;
  }
  if (c->ooff == c->olen) c->ooff = c->olen = 0;
  int need_out = c->olen > 0;
  if (need_out != c->want_out) ep_set(c, EPOLL_CTL_MOD, need_out);
}

static void flush (conn_t *c) {
  if (json || deflate_on) { flush_obuf(c); return; }
  while (c->out_pending > 0) {
    size_t off = c->out_off;
    size_t len = batch_len - off;
    if (len > c->out_pending) len = c->out_pending;
    ssize_t w = write(c->fd, batch + off, len);
    n_writes++;
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      char why[96];
      snprintf(why, sizeof why, "write: %s", strerror(errno));
      conn_fail(c, why);
      return;
    }
    c->out_pending -= w;
    c->out_off = (off + w) % frame_len;
    if ((size_t)w < len) break;
  }
  int need_out = c->out_pending > 0;
  if (need_out != c->want_out) ep_set(c, EPOLL_CTL_MOD, need_out);
}

static void latency_send (conn_t *c, double t) {
  c->sched_at = c->next_send;
  c->sent_at = t;
  c->waiting = 1;
  if (phase == PH_MEASURE) {
    sent_measured++;
    if (t - c->next_send > 0.001) late_sends++; /* more than 1 ms behind schedule */
  }
  c->next_send += (double)nconns / rate;
  c->out_pending += frame_len;
  flush(c);
}

static void set_phase (int p, double t) {
  phase = p;
  t_phase = t;
  if (p == PH_MEASURE) {
    take_snap(&snap_start);
    t_measure_start = t;
  } else if (p == PH_DONE) {
    take_snap(&snap_end);
    t_measure_end = t;
  }
}

static void all_open (double t) {
  set_phase(PH_WARMUP, t);
  if (mode == M_ECHO) {
    for (int i = 0; i < conn_cap; i++) {
      conn_t *c = &conns[i];
      if (c->state != ST_OPEN) continue;
      if (json || deflate_on) for (int k = 0; k < inflight; k++) queue_message(c);
      else c->out_pending = (uint64_t)inflight * frame_len;
      flush(c);
    }
  } else if (mode == M_LATENCY) {
    double step = 1.0 / rate;
    int k = 0;
    for (int i = 0; i < conn_cap; i++) if (conns[i].state == ST_OPEN) conns[i].next_send = t + 0.001 + step * k++;
  }
}

/* ---- receiving ---- */

static void on_open (conn_t *c, double t) {
  connecting--;
  open_count++;
  c->state = ST_OPEN;
  if (mode == M_HANDSHAKE) {
    if (write(c->fd, close_frame, sizeof close_frame) != (ssize_t)sizeof close_frame) { conn_fail(c, "close write"); return; }
    c->state = ST_CLOSE_SENT;
  } else if ((mode == M_ECHO || mode == M_LATENCY) && phase == PH_CONNECT && open_count == nconns) {
    all_open(t);
  } else if (mode == M_ECHO && phase != PH_CONNECT && phase != PH_DONE) {
    /* a late joiner (should not happen) */
    if (json || deflate_on) for (int k = 0; k < inflight; k++) queue_message(c);
    else c->out_pending = (uint64_t)inflight * frame_len;
    flush(c);
  }
}

/* A complete frame arrived. Returns -1 when the connection was closed. */
static int on_frame (conn_t *c, double t) {
  int op = c->opcode;
  if (op == 8) {
    if (mode == M_HANDSHAKE && c->state == ST_CLOSE_SENT) {
      c->state = ST_WAIT_EOF;
      c->deadline = t + 1.0;
      return 0;
    }
    char why[96];
    int code = c->payload_pos >= 2 ? (c->ctl[0] << 8 | c->ctl[1]) : 1005;
    snprintf(why, sizeof why, "server sent close %d", code);
    conn_fail(c, why);
    return -1;
  }
  if (mode == M_FANOUT && (op == 1 || op == 2)) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t stamp = 0;
    for (int i = 7; i >= 0; i--) stamp = stamp << 8 | c->ctl[i];
    double now_ns = (double)ts.tv_sec * 1e9 + ts.tv_nsec;
    if (nrtt == rtt_cap) {
      rtt_cap = rtt_cap ? rtt_cap * 2 : 65536;
      rtt = realloc(rtt, rtt_cap * sizeof *rtt);
    }
    rtt[nrtt++] = (now_ns - (double)stamp) / 1e3;
    if (msgs_total == 0) fanout_first = t;
    fanout_last = t;
    msgs_total++;
    return 0;
  }
  if (op == 9 && (mode == M_IDLE || mode == M_FANOUT)) {
    /* Idle connections answer the server's heartbeat pings (RFC 6455 §5.5.2: a pong with the
     * ping's payload; masked, with a zero key), so a capacity run can keep heartbeats on. */
    uint8_t pong[6 + 125];
    size_t len = c->payload_pos;
    pong[0] = 0x8a;
    pong[1] = 0x80 | (uint8_t)len;
    memset(pong + 2, 0, 4);
    memcpy(pong + 6, c->ctl, len);
    if (write(c->fd, pong, 6 + len) != (ssize_t)(6 + len)) { conn_fail(c, "pong write"); return -1; }
    pongs_sent++;
    return 0;
  }
  if (op == 9 || op == 10) return 0; /* ping/pong in the other modes: not expected, ignored */
  if (c->rsv1 && check_compressed_echo(c) < 0) {
    conn_fail(c, "compressed echo does not inflate to the message sent");
    return -1;
  }
  c->seq_recv++;
  msgs_total++;
  if (phase == PH_MEASURE) msgs_measured++;
  if (mode == M_ECHO) {
    /* the next message, sent by flush() after the read */
    if (phase != PH_DONE) {
      if (json || deflate_on) queue_message(c);
      else c->out_pending += frame_len;
    }
  } else if (mode == M_LATENCY) {
    if (c->waiting) {
      c->waiting = 0;
      double tr = now_s();
      if (phase == PH_MEASURE) {
        if (nrtt == rtt_cap) {
          rtt_cap = rtt_cap ? rtt_cap * 2 : 65536;
          rtt = realloc(rtt, rtt_cap * sizeof *rtt);
          rtt_sched = realloc(rtt_sched, rtt_cap * sizeof *rtt_sched);
        }
        rtt[nrtt] = (tr - c->sent_at) * 1e6;
        rtt_sched[nrtt] = (tr - c->sched_at) * 1e6;
        nrtt++;
      }
      if (phase != PH_DONE && tr >= c->next_send) latency_send(c, tr);
    } else {
      conn_fail(c, "unsolicited message");
      return -1;
    }
  } else {
    conn_fail(c, "unexpected message");
    return -1;
  }
  return c->state == ST_FREE ? -1 : 0;
}

static int hdr_size (const uint8_t *h) {
  int n = 2;
  int l = h[1] & 0x7f;
  if (l == 126) n += 2; else if (l == 127) n += 8;
  if (h[1] & 0x80) n += 4;
  return n;
}

/* Incremental parser for the server's frames. Returns -1 when the connection was closed. */
static int feed (conn_t *c, const uint8_t *p, size_t n, double t) {
  while (n > 0) {
    if (!c->in_payload) {
      int need = c->hdr_len >= 2 ? hdr_size(c->hdr) : 2;
      while (c->hdr_len < need && n > 0) {
        c->hdr[c->hdr_len++] = *p++;
        n--;
        if (c->hdr_len == 2) need = hdr_size(c->hdr);
      }
      if (c->hdr_len < need) return 0;
      uint8_t b0 = c->hdr[0], b1 = c->hdr[1];
      if (b1 & 0x80) { conn_fail(c, "masked server frame"); return -1; }
      if (!(b0 & 0x80)) { conn_fail(c, "fragmented server frame"); return -1; }
      /* RFC 7692 §6: RSV1 only with permessage-deflate, and only on data frames. */
      if (b0 & (deflate_on ? 0x30 : 0x70)) { conn_fail(c, "RSV bits set"); return -1; }
      c->rsv1 = (b0 & 0x40) != 0;
      if (c->rsv1 && (b0 & 0x0f) >= 8) { conn_fail(c, "RSV1 on a control frame"); return -1; }
      uint64_t len = b1 & 0x7f;
      if (len == 126) len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
      else if (len == 127) { len = 0; for (int i = 2; i < 10; i++) len = len << 8 | c->hdr[i]; }
      c->opcode = b0 & 0x0f;
      c->hdr_len = 0;
      c->payload_left = len;
      c->payload_pos = 0;
      if ((c->opcode == 1 || c->opcode == 2) && mode == M_FANOUT) {
        if (c->opcode != 2 || len < 8) { conn_fail(c, "fan-out message is not binary with a timestamp"); return -1; }
      } else if (c->opcode == 1 || c->opcode == 2) {
        if (c->opcode != (text ? 1 : 2)) { conn_fail(c, "echo has the wrong opcode"); return -1; }
        if (c->rsv1) {
          /* A compressed echo is collected, then inflated and compared whole. */
          if (len > zscratch_cap) { conn_fail(c, "compressed echo larger than the message could need"); return -1; }
          if (c->ccap < len) { c->ccap = len; c->cbuf = realloc(c->cbuf, len ? len : 1); }
          c->clen = 0;
        } else if (len != msg_size) { conn_fail(c, "echo has the wrong length"); return -1; }
      } else if (c->opcode < 8 || c->opcode > 10 || len > 125) {
        conn_fail(c, "bad server frame"); return -1;
      }
      c->in_payload = 1;
      if (len == 0) {
        c->in_payload = 0;
        if (on_frame(c, t) < 0) return -1;
        continue;
      }
    }
    size_t k = n < c->payload_left ? n : (size_t)c->payload_left;
    if (c->opcode >= 8) {
      memcpy(c->ctl + c->payload_pos, p, k);
    } else if (mode == M_FANOUT) {
      /* keep the timestamp (the first 8 bytes) */
      if (c->payload_pos < 8) memcpy(c->ctl + c->payload_pos, p, c->payload_pos + k > 8 ? 8 - c->payload_pos : k);
    } else if (c->rsv1) {
      memcpy(c->cbuf + c->clen, p, k);
      c->clen += k;
    } else if (memcmp(p, expected_payload(c->seq_recv) + c->payload_pos, k) != 0) {
      conn_fail(c, "echoed payload differs from the payload sent");
      return -1;
    }
    p += k;
    n -= k;
    c->payload_left -= k;
    c->payload_pos += k;
    if (c->payload_left == 0) {
      c->in_payload = 0;
      if (on_frame(c, t) < 0) return -1;
    }
  }
  return 0;
}

static void on_handshake_bytes (conn_t *c, const uint8_t *p, size_t n, double t) {
  size_t room = HS_MAX - 1 - c->hs_len;
  size_t k = n < room ? n : room;
  memcpy(c->hs + c->hs_len, p, k);
  c->hs_len += k;
  c->hs[c->hs_len] = 0;
  char *end = strstr(c->hs, "\r\n\r\n");
  if (!end) {
    if (c->hs_len >= HS_MAX - 1) conn_fail(c, "handshake response too long");
    return;
  }
  if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
    char why[128];
    snprintf(why, sizeof why, "handshake refused: %.40s", c->hs);
    for (char *q = why; *q; q++) if (*q == '\r' || *q == '\n' || *q == '"') *q = ' ';
    conn_fail(c, why);
    return;
  }
  if (!memmem(c->hs, end - c->hs, expected_accept, strlen(expected_accept))) {
    conn_fail(c, "wrong Sec-WebSocket-Accept");
    return;
  }
  size_t head = end + 4 - c->hs;
  if (deflate_on) {
    char why[128];
    if (parse_deflate_answer(c, c->hs, end + 2 - c->hs, why, sizeof why) < 0) { conn_fail(c, why); return; }
    deflate_init(c);
  }
  size_t extra = (size_t)c->hs_len - head; /* bytes after the head within what we copied */
  size_t consumed_from_p = k - extra;
  on_open(c, t);
  if (c->state == ST_FREE) return;
  if (extra > 0 && feed(c, (uint8_t *)c->hs + head, extra, t) < 0) return;
  if (n > consumed_from_p + extra) feed(c, p + consumed_from_p + extra, n - consumed_from_p - extra, t);
}

static void on_event (conn_t *c, uint32_t events, double t) {
  if (c->state == ST_CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      char why[96];
      snprintf(why, sizeof why, "connect: %s", strerror(err));
      conn_fail(c, why);
      return;
    }
    if (write(c->fd, request, request_len) != (ssize_t)request_len) { conn_fail(c, "request write"); return; }
    c->state = ST_HS_SENT;
    c->hs_len = 0;
    ep_set(c, EPOLL_CTL_MOD, 0);
    return;
  }
  if (events & EPOLLIN || events & (EPOLLERR | EPOLLHUP)) {
    ssize_t r = read(c->fd, rbuf, READ_BUF);
    n_reads++;
    if (r == 0) {
      if (c->state == ST_WAIT_EOF) {
        conn_close(c);
        hs_total++;
        if (phase == PH_MEASURE) hs_measured++;
        return;
      }
      conn_fail(c, c->state == ST_HS_SENT ? "server closed during handshake" : "server closed the connection");
      return;
    }
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      char why[96];
      snprintf(why, sizeof why, "read: %s", strerror(errno));
      conn_fail(c, why);
      return;
    }
    if (c->state == ST_HS_SENT) on_handshake_bytes(c, rbuf, r, t);
    else if (feed(c, rbuf, r, t) < 0) return;
    if (c->state == ST_FREE) return;
  }
  if (mode == M_ECHO || mode == M_LATENCY) {
    if ((c->out_pending > 0 || c->olen > c->ooff) && c->state == ST_OPEN) flush(c);
  }
}

/* ---- output ---- */

static int cmp_d (const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct (double *v, size_t n, double p) {
  if (n == 0) return 0;
  size_t i = (size_t)(p / 100.0 * (n - 1) + 0.5);
  return v[i];
}

static void print_result (void) {
  double el = t_measure_end - t_measure_start;
  double server_cpu = snap_end.server - snap_start.server;
  double self_cpu = snap_end.self - snap_start.self;
  const char *names[] = { "echo", "handshake", "idle", "latency" };
  printf("{\"mode\":\"%s\",\"conns\":%d,\"elapsed_s\":%.3f", names[mode], nconns, el);
  if (mode == M_ECHO) {
    double mps = msgs_measured / el;
    printf(",\"inflight\":%d,\"size\":%zu,\"text\":%s,\"json\":%s,\"deflate\":%s,\"messages\":%llu,\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f",
           inflight, msg_size, text ? "true" : "false", json ? "true" : "false", deflate_on ? "true" : "false",
           (unsigned long long)msgs_measured, mps, mps * msg_size / 1e6);
  } else if (mode == M_HANDSHAKE) {
    printf(",\"handshakes\":%llu,\"conns_per_s\":%.1f,\"eof_timeouts\":%llu",
           (unsigned long long)hs_measured, hs_measured / el, (unsigned long long)eof_timeouts);
  } else if (mode == M_LATENCY) {
    qsort(rtt, nrtt, sizeof *rtt, cmp_d);
    qsort(rtt_sched, nrtt, sizeof *rtt_sched, cmp_d);
    printf(",\"size\":%zu,\"rate\":%.0f,\"achieved_per_s\":%.1f,\"samples\":%zu,\"late_sends\":%llu"
           ",\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f"
           ",\"sched_p50_us\":%.1f,\"sched_p99_us\":%.1f,\"sched_max_us\":%.1f",
           msg_size, rate, nrtt / el, nrtt, (unsigned long long)late_sends,
           pct(rtt, nrtt, 50), pct(rtt, nrtt, 90), pct(rtt, nrtt, 99), pct(rtt, nrtt, 99.9), nrtt ? rtt[nrtt - 1] : 0,
           pct(rtt_sched, nrtt, 50), pct(rtt_sched, nrtt, 99), nrtt ? rtt_sched[nrtt - 1] : 0);
  }
  printf(",\"server_cpu_s\":%.2f,\"server_cpu_util\":%.3f,\"loadgen_cpu_s\":%.2f,\"loadgen_cpu_util\":%.3f"
         ",\"cpu0_busy\":%.3f,\"cpu1_busy\":%.3f,\"server_rss_kib\":%ld,\"errors\":%llu",
         server_cpu, server_cpu / el, self_cpu, self_cpu / el,
         (snap_end.cpu0 - snap_start.cpu0) / el, (snap_end.cpu1 - snap_start.cpu1) / el,
         snap_end.rss_kib, (unsigned long long)errors);
  if (mode == M_ECHO || mode == M_LATENCY) {
    double m = msgs_measured ? (double)msgs_measured : 1;
    if (snap_start.srv_reads >= 0 && snap_end.srv_reads >= 0) {
      printf(",\"server_reads_per_msg\":%.4f,\"server_writes_per_msg\":%.4f",
             (snap_end.srv_reads - snap_start.srv_reads) / m, (snap_end.srv_writes - snap_start.srv_writes) / m);
    }
    printf(",\"loadgen_reads_per_msg\":%.4f,\"loadgen_writes_per_msg\":%.4f",
           (snap_end.reads - snap_start.reads) / m, (snap_end.writes - snap_start.writes) / m);
  }
  if (first_error[0]) printf(",\"first_error\":\"%s\"", first_error);
  printf("}\n");
  fflush(stdout);
}

static void print_ready (double t0, double t) {
  printf("{\"event\":\"ready\",\"open\":%d,\"errors\":%llu,\"pongs\":%llu,\"elapsed_s\":%.3f,\"server_rss_kib\":%ld}\n",
         open_count, (unsigned long long)errors, (unsigned long long)pongs_sent, t - t0, proc_rss_kib(server_pid));
  fflush(stdout);
}

static void on_signal (int sig) { (void)sig; stop_flag = 1; }

static void usage (void) {
  fprintf(stderr, "usage: loadgen --mode echo|handshake|idle|latency|fanout [--host H] [--port P] [--conns N]\n"
                  "  [--inflight K] [--size S] [--text] [--json] [--deflate] [--warmup S] [--duration S] [--rate R] [--stage M] [--sources K]\n"
                  "  [--no-spin] [--path P]\n"
                  "  [--server-pid PID]\n");
  exit(1);
}

int main (int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
    if (OPT("--mode")) {
      if (!strcmp(v, "echo")) mode = M_ECHO;
      else if (!strcmp(v, "handshake")) mode = M_HANDSHAKE;
      else if (!strcmp(v, "idle")) mode = M_IDLE;
      else if (!strcmp(v, "fanout")) mode = M_FANOUT;
      else if (!strcmp(v, "latency")) mode = M_LATENCY;
      else usage();
    } else if (OPT("--host")) host = v;
    else if (OPT("--port")) port = atoi(v);
    else if (OPT("--conns")) nconns = atoi(v);
    else if (OPT("--inflight")) inflight = atoi(v);
    else if (OPT("--size")) msg_size = strtoull(v, NULL, 10);
    else if (OPT("--warmup")) warmup = atof(v);
    else if (OPT("--duration")) duration = atof(v);
    else if (OPT("--rate")) rate = atof(v);
    else if (OPT("--stage")) stage = atoi(v);
    else if (OPT("--sources")) sources = atoi(v);
    else if (OPT("--path")) path = v;
    else if (OPT("--server-pid")) server_pid = atoi(v);
    else if (strcmp(a, "--text") == 0) text = 1;
    else if (strcmp(a, "--json") == 0) json = text = 1;
    else if (strcmp(a, "--deflate") == 0) deflate_on = 1;
    else if (strcmp(a, "--no-spin") == 0) spin = 0;
    else usage();
#undef OPT
  }
  if (nconns <= 0 || inflight <= 0 || duration <= 0 || rate <= 0) usage();
  if (mode == M_LATENCY) inflight = 1;
  if ((json || deflate_on) && mode != M_ECHO) usage();
  /* --deflate sends the --json pool: one message compressed again and again with context
   * takeover would shrink to a single back-reference, measuring nothing real. */
  if (deflate_on) json = text = 1;

  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = { .sa_handler = on_signal };
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < (rlim_t)nconns + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)nconns + 64) die("ulimit -n is %lu, need %d", (unsigned long)rl.rlim_cur, nconns + 64);
  }

  build_frames();
  conn_cap = nconns;
  conns = calloc(conn_cap, sizeof *conns);
  for (int i = 0; i < conn_cap; i++) conns[i].fd = -1;
  ep = epoll_create1(EPOLL_CLOEXEC);
  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct epoll_event tev = { .events = EPOLLIN, .data.u32 = (uint32_t)TAG_TIMER };
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
  if (mode == M_IDLE || mode == M_FANOUT) {
    struct epoll_event sev = { .events = EPOLLIN, .data.u32 = (uint32_t)TAG_STDIN };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) < 0) stdin_open = 0; /* e.g. /dev/null: SIGTERM only */
    target = stage > 0 && stage < nconns ? stage : nconns;
  } else {
    target = nconns;
  }

  double t0 = now_s();
  if (mode == M_HANDSHAKE) set_phase(PH_WARMUP, t0);
  struct epoll_event evs[512];
  int ready_printed = 0;
  double safety = t0 + 60 + warmup + duration; /* a run that cannot get its connections open ends */

  while (!stop_flag) {
    double t = now_s();
    /* keep opening connections up to the target, a bounded number at a time */
    if (mode == M_HANDSHAKE) {
      if (phase != PH_DONE) while (live < nconns) open_conn();
    } else {
      while (open_count + connecting < target && connecting < max_connecting) open_conn();
    }
    if (mode == M_IDLE || mode == M_FANOUT) {
      if (open_count == target && connecting == 0 && ready_printed < target) {
        print_ready(t0, t);
        ready_printed = target;
        if (!stdin_open && target < nconns) target = nconns;
      }
      if (errors > 100) die("too many connection errors: %s", first_error);
    } else if (phase == PH_CONNECT && t > safety) {
      die("only %d of %d connections opened (%llu errors: %s)", open_count, nconns, (unsigned long long)errors, first_error);
    }
    if ((mode == M_ECHO || mode == M_LATENCY) && phase != PH_CONNECT && live == 0) {
      if (phase != PH_DONE) set_phase(PH_DONE, t);
      break;
    }
    /* phase changes */
    if (phase == PH_WARMUP && t - t_phase >= warmup) set_phase(PH_MEASURE, t);
    if (phase == PH_MEASURE && t - t_phase >= duration) { set_phase(PH_DONE, t); break; }
    double next = 0;
    if (phase == PH_WARMUP) next = t_phase + warmup;
    else if (phase == PH_MEASURE) next = t_phase + duration;
    /* latency: send what is due, and wake for the next one */
    if (mode == M_LATENCY && (phase == PH_WARMUP || phase == PH_MEASURE)) {
      for (int i = 0; i < conn_cap; i++) {
        conn_t *c = &conns[i];
        if (c->state != ST_OPEN) continue;
        if (!c->waiting && c->next_send <= t) latency_send(c, t);
        if (c->state == ST_OPEN && !c->waiting && c->next_send < next) next = c->next_send;
      }
    }
    if (mode == M_HANDSHAKE) {
      for (int i = 0; i < conn_cap; i++) {
        conn_t *c = &conns[i];
        if (c->state != ST_WAIT_EOF) continue;
        if (c->deadline <= t) {
          eof_timeouts++;
          conn_close(c);
          hs_total++;
          if (phase == PH_MEASURE) hs_measured++;
        } else if (c->deadline < next) next = c->deadline;
      }
    }
    /* Latency mode busy-polls its own core by default: waking a sleeping core (a virtual one
     * especially) costs tens of microseconds or more, which would land in every round trip. */
    int spinning = spin && mode == M_LATENCY && (phase == PH_WARMUP || phase == PH_MEASURE);
    arm_timer(spinning ? 0 : next);
    int n = epoll_wait(ep, evs, 512, spinning ? 0 : mode == M_IDLE || mode == M_FANOUT || phase == PH_CONNECT ? 100 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    t = now_s();
    for (int i = 0; i < n; i++) {
      uint32_t tag = evs[i].data.u32;
      if (tag == (uint32_t)TAG_TIMER) {
        uint64_t x;
        if (read(tfd, &x, sizeof x) < 0) { /* spurious */ }
        armed_at = -1;
        continue;
      }
      if (tag == (uint32_t)TAG_STDIN) {
        char buf[256];
        ssize_t r = read(0, buf, sizeof buf);
        if (r <= 0) { stop_flag = 1; break; }
        if (memchr(buf, '\n', r)) target = nconns;
        continue;
      }
      conn_t *c = &conns[tag];
      if (c->state == ST_FREE) continue;
      on_event(c, evs[i].events, t);
    }
  }

  if (mode == M_FANOUT) {
    qsort(rtt, nrtt, sizeof *rtt, cmp_d);
    printf("{\"mode\":\"fanout\",\"conns\":%d,\"open\":%d,\"errors\":%llu,\"received\":%llu,\"span_s\":%.6f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f",
           nconns, open_count, (unsigned long long)errors, (unsigned long long)msgs_total, fanout_last - fanout_first,
           pct(rtt, nrtt, 50), pct(rtt, nrtt, 99), nrtt ? rtt[nrtt - 1] : 0);
    if (first_error[0]) printf(",\"first_error\":\"%s\"", first_error);
    printf("}\n");
    fflush(stdout);
  } else if (mode == M_IDLE) {
    printf("{\"mode\":\"idle\",\"conns\":%d,\"open\":%d,\"errors\":%llu,\"pongs\":%llu", nconns, open_count, (unsigned long long)errors, (unsigned long long)pongs_sent);
    if (first_error[0]) printf(",\"first_error\":\"%s\"", first_error);
    printf("}\n");
    fflush(stdout);
  } else {
    if (phase != PH_DONE) set_phase(PH_DONE, now_s());
    print_result();
  }
  return 0;
}
