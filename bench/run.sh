#!/usr/bin/env bash
# The gatehouse load benchmark: the same workload sent directly to a fast canned upstream (`mock-upstream`),
# through a plain nginx reverse proxy, and through gatehouse, on this machine, in one run. Writes
# bench/RESULTS.md. See bench/README.md for what is measured and the caveats.
#
#   bench/run.sh                                  # every scenario, ~4-5 minutes after the build
#   SCENARIOS="chat stream" bench/run.sh          # a subset: chat stream anthropic anthropic_stream
#   SCENARIOS="anthropic anthropic_stream responses responses_stream" bench/run.sh   # Responses vs chat translation
#
# Knobs (environment): SCENARIOS, DURATION (s, max-throughput run), PACED_DURATION (s), WARMUP (s),
# CONNECTIONS (max-throughput run), PACED_CONNECTIONS + PACED_DELAY_MS (the ~1k RPS run: each connection waits
# PACED_DELAY_MS after every response), PIN (1: proxy on the last core, load generator and upstream on the
# first; 0: no pinning), NICE (priority of every benchmark process; default -20 as root, 0 otherwise),
# RESULTS (output file), CARGO_TARGET_DIR, BUILD (0: use the binaries already in $CARGO_TARGET_DIR/release
# instead of building; RESULTS.md records their build time), QUIET_WAIT (s to wait for other work to stop
# before the load phase), RETRY_BUDGET (s of repeats allowed for runs that other processes disturbed),
# SOURCE_REV (what to record as the source revision when the tree is not a git checkout).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The command as given, with the knobs that were set, for RESULTS.md.
COMMAND_LINE=""
for knob in SCENARIOS DURATION PACED_DURATION WARMUP CONNECTIONS PACED_CONNECTIONS PACED_DELAY_MS PIN NICE BUILD \
  QUIET_WAIT RETRY_BUDGET; do
  [[ -n ${!knob:-} ]] && COMMAND_LINE+="$knob=\"${!knob}\" "
done
COMMAND_LINE+="bench/run.sh"

ALL_SCENARIOS="chat stream anthropic anthropic_stream messages messages_native keys_local keys_redis responses responses_stream"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
DURATION=${DURATION:-8}
PACED_DURATION=${PACED_DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-64}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-10}
PACED_DELAY_MS=${PACED_DELAY_MS:-10}
PIN=${PIN:-1}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for s in $SCENARIOS; do
  case " $ALL_SCENARIOS " in *" $s "*) ;; *) die "unknown scenario '$s' (known: $ALL_SCENARIOS)" ;; esac
done

# --- tools ------------------------------------------------------------------------------------------------------
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -x $NGINX ]] || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
  log "installing ${missing[*]}"
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    # nginx-light is gone from newer Debian releases; the full package serves as well.
    missing=("${missing[@]/nginx-light/nginx}")
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
# wrk2 (open-loop, fixed rate) is not packaged in Debian; see bench/README.md for how the ~1k RPS run is paced.

BIN=$TARGET_DIR/release
if [[ ${BUILD:-1} == 0 ]]; then
  log "BUILD=0: using the existing binaries in $BIN"
else
  log "building (cargo build --release --locked -p gatehouse -p testkit)"
  cargo build --release --locked -p gatehouse -p testkit
fi
for b in gatehouse mock-upstream; do [[ -x $BIN/$b ]] || die "$BIN/$b missing (build it, or drop BUILD=0)"; done

# --- processes --------------------------------------------------------------------------------------------------
WORK=$(mktemp -d -t gatehouse-bench.XXXXXX)
PIDS=()
AUTOGROUP_NICE_BEFORE=""
cleanup() {
  local pid
  if [[ -n $AUTOGROUP_NICE_BEFORE ]]; then echo "$AUTOGROUP_NICE_BEFORE" >"/proc/$$/autogroup" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NCPU=$(nproc)
if [[ $PIN == 1 && $NCPU -ge 2 ]]; then
  LOAD_CPU=0
  PROXY_CPU=$((NCPU - 1))
  # Command prefixes, not functions: taskset execs the program, so $! is the program's own pid.
  ON_LOAD=(taskset -c "$LOAD_CPU")
  ON_PROXY=(taskset -c "$PROXY_CPU")
  PINNING="load generator (wrk, 1 thread) and mock-upstream (1 thread) on CPU $LOAD_CPU; the proxy under test alone on CPU $PROXY_CPU"
else
  ON_LOAD=()
  ON_PROXY=()
  PINNING="none (every process may run on any of the $NCPU CPUs)"
fi
# On a shared machine, run every benchmark process at the highest priority (as root) so that a concurrent build
# gets the CPU only when the benchmark leaves it idle. NICE=0 keeps the default priority.
NICE=${NICE:-$([[ $(id -u) -eq 0 ]] && echo -20 || echo 0)}
if [[ $NICE != 0 ]]; then
  ON_LOAD=(nice -n "$NICE" "${ON_LOAD[@]}")
  ON_PROXY=(nice -n "$NICE" "${ON_PROXY[@]}")
  PINNING+="; every benchmark process at nice $NICE"
  # With autogroup scheduling (the default on desktop and many VM kernels) nice only ranks processes within
  # one session; CPU is shared between sessions by the session's own nice. Raise ours for the run (restored on
  # exit), or a build in another session still gets half the machine.
  if [[ $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo 0) == 1 && -w /proc/$$/autogroup ]]; then
    AUTOGROUP_NICE_BEFORE=$(sed -n 's/.* nice \(-\{0,1\}[0-9]*\)$/\1/p' "/proc/$$/autogroup")
    if echo "$NICE" >"/proc/$$/autogroup" 2>/dev/null; then
      PINNING+=" (session autogroup too)"
    else
      AUTOGROUP_NICE_BEFORE=""
    fi
  fi
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: until URL answers 2xx.
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

"${ON_LOAD[@]}" "$BIN/mock-upstream" --port 0 --threads 1 --chunks 100 >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 100); do
  MOCK_URL=$(sed -n 's/^mock-upstream listening on \(http:.*\)$/\1/p' "$WORK/mock.log")
  [[ -n $MOCK_URL ]] && break
  sleep 0.1
done
[[ -n ${MOCK_URL:-} ]] || die "mock-upstream did not start: $(cat "$WORK/mock.log")"
wait_http "$MOCK_URL/health" 10 || die "mock-upstream not answering"
log "mock-upstream on $MOCK_URL"

# nginx: a plain reverse proxy with upstream keep-alive, one worker, no access log, all files under $WORK.
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  keepalive_requests 1000000;
  upstream mock {
    server ${MOCK_URL#http://};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"${ON_PROXY[@]}" "$NGINX" -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
NGINX_URL=http://127.0.0.1:$NGINX_PORT
wait_http "$NGINX_URL/health" 10 || die "nginx did not start: $(cat "$WORK/nginx/error.log")"
NGINX_PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
log "nginx on $NGINX_URL (master + worker pids: $NGINX_PIDS)"

# gatehouse: the passthrough provider always; the Anthropic one when the binary knows the kind.
GH_PORT=$(free_port)
GH_ADMIN=$(free_port)
write_gatehouse_config() { # $1 = file, $2 = 1 to include the anthropic provider
  {
    echo "listen: 127.0.0.1:$GH_PORT"
    echo "admin: 127.0.0.1:$GH_ADMIN"
    echo "providers:"
    echo "  mock: { kind: openai_compatible, base_url: \"$MOCK_URL\", api_key: { value: bench-key } }"
    if [[ $2 == 1 ]]; then
      echo "  claude: { kind: anthropic, base_url: \"$MOCK_URL\", api_key: { value: bench-key } }"
    fi
    echo "models:"
    echo "  - { name: bench, targets: [{ provider: mock, model: mock-upstream }] }"
    if [[ $2 == 1 ]]; then
      echo "  - { name: claude-bench, targets: [{ provider: claude, model: claude-haiku-4-5 }] }"
    fi
    echo "telemetry: { access_log: off }"
  } >"$1"
}
ANTHROPIC_NOTE=""
wants_anthropic=0
case " $SCENARIOS " in *" anthropic"* | *" messages"* | *" responses"*) wants_anthropic=1 ;; esac
if ((wants_anthropic)); then
  write_gatehouse_config "$WORK/gatehouse.yaml" 1
  if ! "$BIN/gatehouse" check "$WORK/gatehouse.yaml" >"$WORK/check.log" 2>&1; then
    ANTHROPIC_NOTE="skipped: this gatehouse build rejects the \`anthropic\` provider kind ($(head -1 "$WORK/check.log" | sed "s|$WORK/||" | head -c 300))"
    log "anthropic scenarios $ANTHROPIC_NOTE"
    wants_anthropic=0
  fi
fi
((wants_anthropic)) || write_gatehouse_config "$WORK/gatehouse.yaml" 0
"${ON_PROXY[@]}" "$BIN/gatehouse" --config "$WORK/gatehouse.yaml" >"$WORK/gatehouse.log" 2>&1 &
GH_PID=$!
PIDS+=("$GH_PID")
GH_URL=http://127.0.0.1:$GH_PORT
wait_http "http://127.0.0.1:$GH_ADMIN/readyz" 20 || die "gatehouse not ready: $(tail -20 "$WORK/gatehouse.log")"
log "gatehouse on $GH_URL (pid $GH_PID)"

# Governed instances for the keys_* scenarios: the same passthrough provider behind a virtual-key check and a
# per-key request limit that never refuses (so every request pays for the check), in process or through Redis.
GOV_KEY=sk-bench-key
GOV_HASH=$(printf '%s' "$GOV_KEY" | sha256sum | cut -d' ' -f1)
start_governed() { # $1 = name, $2 = extra YAML (the redis section or nothing); sets GOV_URL and GOV_PID
  local port admin
  port=$(free_port) admin=$(free_port)
  {
    echo "listen: 127.0.0.1:$port"
    echo "admin: 127.0.0.1:$admin"
    echo "providers:"
    echo "  mock: { kind: openai_compatible, base_url: \"$MOCK_URL\", api_key: { value: bench-key } }"
    echo "models:"
    echo "  - { name: bench, targets: [{ provider: mock, model: mock-upstream }] }"
    echo "auth: { api_keys: [{ name: bench, sha256: \"$GOV_HASH\" }] }"
    echo "limits: [{ name: per-key, scope: key, requests_per_second: 1000000, burst: 1000000 }]"
    [[ -n $2 ]] && echo "$2"
    echo "telemetry: { access_log: off }"
  } >"$WORK/gatehouse-$1.yaml"
  "${ON_PROXY[@]}" "$BIN/gatehouse" --config "$WORK/gatehouse-$1.yaml" >"$WORK/gatehouse-$1.log" 2>&1 &
  GOV_PID=$!
  PIDS+=("$GOV_PID")
  GOV_URL=http://127.0.0.1:$port
  wait_http "http://127.0.0.1:$admin/readyz" 20 || die "gatehouse ($1) not ready: $(tail -20 "$WORK/gatehouse-$1.log")"
  log "gatehouse ($1) on $GOV_URL (pid $GOV_PID)"
}
case " $SCENARIOS " in *" keys_local "*) start_governed local ""; GOV_LOCAL_URL=$GOV_URL GOV_LOCAL_PID=$GOV_PID ;; esac
case " $SCENARIOS " in
  *" keys_redis "*)
    command -v redis-server >/dev/null 2>&1 || die "keys_redis needs redis-server (apt-get install redis-server)"
    REDIS_PORT=$(free_port)
    "${ON_LOAD[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
    PIDS+=("$!")
    sleep 0.5
    start_governed redis "redis: { url: \"redis://127.0.0.1:$REDIS_PORT\", on_error: fail_closed }"
    GOV_REDIS_URL=$GOV_URL GOV_REDIS_PID=$GOV_PID
    ;;
esac

# --- measurement ------------------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
# Sum of utime + stime (clock ticks) over the given pids; fields 14 and 15 of /proc/PID/stat (comm has no spaces).
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# Sum of a /proc/PID/status field (kB) over the given pids.
status_kib() { local f=$1 t=0 p; shift; for p in "$@"; do t=$((t + $(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/status"))); done; echo "$t"; }
# Busy (user + nice + system) clock ticks of the whole machine, from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4}' /proc/stat; }
# User + system clock ticks of this shell's finished children (wrk, once waited for), from a file written by
# the `times` builtin in this very shell (a pipe or $(...) would run it in a subshell that has no children yet).
children_ticks() {
  awk -v hz="$CLK_TCK" 'NR == 2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
    printf "%d\n", t * hz + 0.5
  }' "$1"
}
# Resets VmHWM to the current RSS so each run reports its own peak (kernel >= 4.0, own processes or root).
HWM_RESET=1
reset_hwm() { local p; for p in "$@"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || HWM_RESET=0; done; }

sleep 1
IDLE_GH_KIB=$(status_kib VmRSS "$GH_PID")
# shellcheck disable=SC2086
IDLE_NGINX_KIB=$(status_kib VmRSS $NGINX_PIDS)
IDLE_MOCK_KIB=$(status_kib VmRSS "$MOCK_PID")

# Request bodies: a ~1 KiB OpenAI chat request (system + user message), and the Anthropic equivalent for the
# direct baseline of the translated scenarios.
python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
text = ("Summarise the following notes for a status update, in two sentences. " +
        "The gateway relays chat completions, holds provider keys and records token usage for every request. " * 8)[:880]
system = "You are a terse assistant."
def openai(model, stream):
    body = {"model": model, "messages": [{"role": "system", "content": system}, {"role": "user", "content": text}],
            "max_tokens": 256}
    if stream:
        body["stream"] = True
    return body
def anthropic(stream):
    body = {"model": "claude-haiku-4-5", "max_tokens": 256, "system": system,
            "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    return body
bodies = {
    "chat": openai("bench", False), "stream": openai("bench", True),
    "anthropic": openai("claude-bench", False), "anthropic_stream": openai("claude-bench", True),
    "messages": anthropic(False), "messages_stream": anthropic(True),
    # /v1/messages through gatehouse: translated to the OpenAI-compatible mock, or native to the Anthropic one.
    "messages_translated_in": dict(anthropic(False), model="bench"),
    "messages_native_in": dict(anthropic(False), model="claude-bench"),
    # /v1/responses in, translated to the Anthropic upstream: the same prompt and limit as `anthropic`.
    "responses": {"model": "claude-bench", "instructions": system, "input": text, "max_output_tokens": 256,
                  "store": False},
    "responses_stream": {"model": "claude-bench", "instructions": system, "input": text, "max_output_tokens": 256,
                         "store": False, "stream": True},
}
for name, body in bodies.items():
    with open(f"{work}/{name}.json", "w") as f:
        json.dump(body, f, separators=(",", ":"))
EOF

RESULTS_JSONL=$WORK/results.jsonl
: >"$RESULTS_JSONL"

# check URL BODY EXPECT: one request must answer 200 with EXPECT somewhere in the body.
check() {
  local out status
  local auth=()
  [[ -n ${BENCH_AUTH:-} ]] && auth=(-H "Authorization: $BENCH_AUTH")
  out=$(curl -sS -o "$WORK/check.out" -w '%{http_code}' -H 'content-type: application/json' "${auth[@]}" --data-binary "@$2" "$1") || out=000
  status=$out
  if [[ $status != 200 ]] || ! grep -qF -- "$3" "$WORK/check.out"; then
    log "check failed for $1 ($(basename "$2")): HTTP $status: $(head -c 300 "$WORK/check.out")"
    return 1
  fi
}

# wrk_run SCENARIO TARGET MODE URL BODY CONNS DURATION DELAY_MS PIDS...: one load run; appends a JSON line.
wrk_run() {
  local scenario=$1 target=$2 mode=$3 url=$4 body=$5 conns=$6 duration=$7 delay=$8
  shift 8
  local pids=("$@") t0=0 t1=0 hwm=0 rss=0 line b0 b1 m0 m1 w0 w1 other
  if ((${#pids[@]})); then reset_hwm "${pids[@]}"; t0=$(cpu_ticks "${pids[@]}"); fi
  times >"$WORK/times0"
  b0=$(machine_ticks) m0=$(cpu_ticks "$MOCK_PID")
  BENCH_BODY=$body BENCH_DELAY_MS=$delay timeout $((duration + 30)) \
    "${ON_LOAD[@]}" wrk -t1 -c "$conns" -d "${duration}s" --timeout 5s \
    -s "$ROOT/bench/post.lua" "$url" >"$WORK/wrk.log" 2>&1 || true
  times >"$WORK/times1"
  m1=$(cpu_ticks "$MOCK_PID") b1=$(machine_ticks)
  w0=$(children_ticks "$WORK/times0") w1=$(children_ticks "$WORK/times1")
  if ((${#pids[@]})); then
    t1=$(cpu_ticks "${pids[@]}")
    hwm=$(status_kib VmHWM "${pids[@]}")
    rss=$(status_kib VmRSS "${pids[@]}")
  fi
  line=$(sed -n 's/^BENCH_RESULT //p' "$WORK/wrk.log")
  if [[ -z $line ]]; then
    log "wrk produced no result for $scenario/$target/$mode: $(head -c 500 "$WORK/wrk.log")"
    line=null
  fi
  [[ $mode == warmup ]] && return 0
  # CPU time of processes other than wrk, mock-upstream and the proxy under test (another build, say).
  other=$(((b1 - b0) - (m1 - m0) - (w1 - w0) - (t1 - t0)))
  ((other > 0)) || other=0
  # More than 10% of a core taken by something else skews the run: repeat it once, within the retry budget.
  if ((other * 100 > CLK_TCK * duration * 10 && ${RETRIED:-0} == 0 && SECONDS + duration < RETRY_DEADLINE)); then
    log "  $target $mode: other processes used $((other * 100 / (CLK_TCK * duration)))% of a core; repeating the run"
    RETRIED=1 wrk_run "$scenario" "$target" "$mode" "$url" "$body" "$conns" "$duration" "$delay" "${pids[@]}"
    return 0
  fi
  printf '{"scenario":"%s","target":"%s","mode":"%s","connections":%d,"delay_ms":%d,"cpu_ticks":%d,"other_ticks":%d,"hwm_kib":%d,"rss_after_kib":%d,"wrk":%s}\n' \
    "$scenario" "$target" "$mode" "$conns" "$delay" $((t1 - t0)) "$other" "$hwm" "$rss" "$line" >>"$RESULTS_JSONL"
  python3 "$ROOT/bench/report.py" line "$(tail -1 "$RESULTS_JSONL")"
}

# bench_target SCENARIO TARGET URL BODY EXPECT PIDS...
bench_target() {
  local scenario=$1 target=$2 url=$3 body=$4 expect=$5
  shift 5
  if ! check "$url" "$body" "$expect"; then
    printf '{"scenario":"%s","target":"%s","mode":"failed","wrk":null}\n' "$scenario" "$target" >>"$RESULTS_JSONL"
    return 0
  fi
  wrk_run "$scenario" "$target" warmup "$url" "$body" "$CONNECTIONS" "$WARMUP" 0 "$@"
  wrk_run "$scenario" "$target" max "$url" "$body" "$CONNECTIONS" "$DURATION" 0 "$@"
  wrk_run "$scenario" "$target" paced "$url" "$body" "$PACED_CONNECTIONS" "$PACED_DURATION" "$PACED_DELAY_MS" "$@"
}

# How busy the machine is without us (another build, say): sampled over three seconds before the load phase.
cpu_busy_pct() {
  local a b
  read -ra a < <(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
  sleep 3
  read -ra b < <(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
  echo $(((b[0] - a[0]) * 100 / ((b[0] - a[0]) + (b[1] - a[1]) + 1)))
}
# Wait (up to QUIET_WAIT seconds) for other work to stop: a concurrent build would skew every figure.
QUIET_WAIT=${QUIET_WAIT:-180}
quiet_deadline=$((SECONDS + QUIET_WAIT))
BUSY_BEFORE=$(cpu_busy_pct)
while ((BUSY_BEFORE > 10 && SECONDS < quiet_deadline)); do
  log "machine CPU busy $BUSY_BEFORE% before the load phase; waiting for it to quieten (QUIET_WAIT=$QUIET_WAIT)"
  sleep 2
  BUSY_BEFORE=$(cpu_busy_pct)
done
log "machine CPU busy before the load phase: $BUSY_BEFORE% (of all cores)"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
START_SECONDS=$SECONDS
plan=0
for scenario in $SCENARIOS; do
  case $scenario in chat | stream | messages_native | keys_local | keys_redis) plan=$((plan + 3)) ;; *) plan=$((plan + 2)) ;; esac
done
plan=$((plan * (WARMUP + DURATION + PACED_DURATION)))
RETRY_DEADLINE=$((SECONDS + plan + ${RETRY_BUDGET:-60}))
log "load plan: ~${plan}s, plus up to ${RETRY_BUDGET:-60}s of repeats for disturbed runs"
for scenario in $SCENARIOS; do
  case $scenario in
    chat | stream)
      expect='"chat.completion"'
      [[ $scenario == stream ]] && expect='data: [DONE]'
      log "scenario $scenario"
      bench_target "$scenario" direct "$MOCK_URL/v1/chat/completions" "$WORK/$scenario.json" "$expect"
      # shellcheck disable=SC2086
      bench_target "$scenario" nginx "$NGINX_URL/v1/chat/completions" "$WORK/$scenario.json" "$expect" $NGINX_PIDS
      bench_target "$scenario" gatehouse "$GH_URL/v1/chat/completions" "$WORK/$scenario.json" "$expect" "$GH_PID"
      ;;
    anthropic | anthropic_stream)
      if ((!wants_anthropic)); then
        log "scenario $scenario $ANTHROPIC_NOTE"
        continue
      fi
      log "scenario $scenario"
      direct_body=$WORK/messages.json expect_direct='"type":"message"' expect='"chat.completion"'
      if [[ $scenario == anthropic_stream ]]; then
        direct_body=$WORK/messages_stream.json expect_direct='event: message_stop' expect='data: [DONE]'
      fi
      # No nginx row: nginx cannot translate. The direct baseline is the Anthropic-shaped upstream itself.
      bench_target "$scenario" direct "$MOCK_URL/v1/messages" "$direct_body" "$expect_direct"
      bench_target "$scenario" gatehouse "$GH_URL/v1/chat/completions" "$WORK/$scenario.json" "$expect" "$GH_PID"
      ;;
    responses | responses_stream)
      # OpenAI Responses API in, translated to the Anthropic upstream and back: compare with `anthropic` /
      # `anthropic_stream` (the chat-completions translation of the same prompt). No nginx row: nginx cannot translate.
      if ((!wants_anthropic)); then
        log "scenario $scenario $ANTHROPIC_NOTE"
        continue
      fi
      log "scenario $scenario"
      direct_body=$WORK/messages.json expect_direct='"type":"message"' expect='"object":"response"'
      if [[ $scenario == responses_stream ]]; then
        direct_body=$WORK/messages_stream.json expect_direct='event: message_stop' expect='event: response.completed'
      fi
      bench_target "$scenario" direct "$MOCK_URL/v1/messages" "$direct_body" "$expect_direct"
      bench_target "$scenario" gatehouse "$GH_URL/v1/responses" "$WORK/$scenario.json" "$expect" "$GH_PID"
      ;;
    messages)
      # Anthropic client in, OpenAI-compatible upstream out (translated both ways). The direct baseline is the same
      # upstream work: the OpenAI request straight to the mock. No nginx row: nginx cannot translate.
      if ((!wants_anthropic)); then
        log "scenario $scenario $ANTHROPIC_NOTE"
        continue
      fi
      log "scenario $scenario"
      bench_target "$scenario" direct "$MOCK_URL/v1/chat/completions" "$WORK/chat.json" '"chat.completion"'
      bench_target "$scenario" gatehouse "$GH_URL/v1/messages" "$WORK/messages_translated_in.json" '"type":"message"' "$GH_PID"
      ;;
    keys_local | keys_redis)
      # The chat scenario through a gatehouse that checks a virtual key and a per-key limit (in process, or the
      # Lua script in Redis on the load generator's CPU). `gatehouse` here is that governed instance; the report
      # compares it with the plain instance of the `chat` scenario, so run both in one go.
      log "scenario $scenario"
      gov_url=$GOV_LOCAL_URL gov_pid=$GOV_LOCAL_PID
      [[ $scenario == keys_redis ]] && gov_url=$GOV_REDIS_URL gov_pid=$GOV_REDIS_PID
      bench_target "$scenario" direct "$MOCK_URL/v1/chat/completions" "$WORK/chat.json" '"chat.completion"'
      export BENCH_AUTH="Bearer $GOV_KEY"
      bench_target "$scenario" gatehouse "$gov_url/v1/chat/completions" "$WORK/chat.json" '"chat.completion"' "$gov_pid"
      unset BENCH_AUTH
      ;;
    messages_native)
      # Anthropic client in, Anthropic upstream out: passthrough (model rewrite and credential swap only), so nginx
      # is a fair baseline here.
      if ((!wants_anthropic)); then
        log "scenario $scenario $ANTHROPIC_NOTE"
        continue
      fi
      log "scenario $scenario"
      bench_target "$scenario" direct "$MOCK_URL/v1/messages" "$WORK/messages.json" '"type":"message"'
      # shellcheck disable=SC2086
      bench_target "$scenario" nginx "$NGINX_URL/v1/messages" "$WORK/messages.json" '"type":"message"' $NGINX_PIDS
      bench_target "$scenario" gatehouse "$GH_URL/v1/messages" "$WORK/messages_native_in.json" '"type":"message"' "$GH_PID"
      ;;
  esac
done
ELAPSED=$((SECONDS - START_SECONDS))
LOADAVG_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

kill -0 "$GH_PID" 2>/dev/null || die "gatehouse died during the run: $(tail -20 "$WORK/gatehouse.log")"

# --- report ---------------------------------------------------------------------------------------------------
if [[ -n ${SOURCE_REV:-} ]]; then
  git_rev=$SOURCE_REV # e.g. "abc1234 (git archive export)" when the tree is not a git checkout
else
  git_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD 2>/dev/null || git_rev+=" (with uncommitted changes)"
fi
BENCH_COMMAND=$COMMAND_LINE BENCH_STARTED=$STARTED BENCH_ELAPSED=$ELAPSED BENCH_SCENARIOS=$SCENARIOS
BENCH_MACHINE="$NCPU CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
BENCH_KERNEL=$(uname -r) BENCH_PINNING=$PINNING BENCH_GIT=$git_rev
BENCH_QUIET="machine CPU busy $BUSY_BEFORE% (all cores) in the 3 s before the load phase; load average $LOADAVG_AFTER at its end"
BENCH_GATEHOUSE="$("$BIN/gatehouse" --version 2>&1 | head -1), release build, binary built $(date -u -r "$BIN/gatehouse" +%Y-%m-%dT%H:%M:%SZ)"
BENCH_RUSTC=$(rustc --version 2>/dev/null || echo unknown)
BENCH_NGINX=$("$NGINX" -v 2>&1 | head -1)
BENCH_WRK="$(wrk -v 2>&1 | head -1 || true), 1 thread, bench/post.lua"
BENCH_DURATION=$DURATION BENCH_PACED_DURATION=$PACED_DURATION BENCH_WARMUP=$WARMUP
BENCH_CONNECTIONS=$CONNECTIONS BENCH_PACED_CONNECTIONS=$PACED_CONNECTIONS BENCH_PACED_DELAY_MS=$PACED_DELAY_MS
BENCH_CLK_TCK=$CLK_TCK BENCH_HWM_RESET=$HWM_RESET BENCH_ANTHROPIC_NOTE=$ANTHROPIC_NOTE
BENCH_IDLE_GATEHOUSE_KIB=$IDLE_GH_KIB BENCH_IDLE_NGINX_KIB=$IDLE_NGINX_KIB BENCH_IDLE_MOCK_KIB=$IDLE_MOCK_KIB
export BENCH_COMMAND BENCH_STARTED BENCH_ELAPSED BENCH_SCENARIOS BENCH_MACHINE BENCH_KERNEL BENCH_PINNING BENCH_GIT \
  BENCH_QUIET \
  BENCH_GATEHOUSE BENCH_RUSTC BENCH_NGINX BENCH_WRK BENCH_DURATION BENCH_PACED_DURATION BENCH_WARMUP \
  BENCH_CONNECTIONS BENCH_PACED_CONNECTIONS BENCH_PACED_DELAY_MS BENCH_CLK_TCK BENCH_HWM_RESET BENCH_ANTHROPIC_NOTE \
  BENCH_IDLE_GATEHOUSE_KIB BENCH_IDLE_NGINX_KIB BENCH_IDLE_MOCK_KIB
python3 "$ROOT/bench/report.py" write "$RESULTS_JSONL" "$RESULTS"
log "done: ${ELAPSED}s of load; wrote $RESULTS"
