#!/usr/bin/env bash
# Warm-fallback benchmark: throughput, latency percentiles and client-visible errors through gatehouse while the
# primary upstream fails and recovers. Writes bench/RESULTS-failover.md. See bench/README.md ("failover.sh").
#
#   bench/failover.sh                      # three phases of PHASE s each, ~1 minute with the build done
#   BUILD=0 PHASE=5 bench/failover.sh      # reuse the release binaries in $CARGO_TARGET_DIR/release
#
# Phases, each one paced wrk run (CONNECTIONS connections, DELAY_MS think time after every response, ~1k RPS):
#   steady   - primary and standby healthy; all traffic on the primary
#   failure  - the primary process is killed (SIGKILL) KILL_AT s into the phase
#   recovery - the primary is restarted on the same port KILL_AT s into the phase; probes bring traffic back
# gatehouse probes both upstreams (`GET /health` every PROBE_INTERVAL, thresholds 2/2) and keeps the default
# failover settings except RETRY_BUDGET (default 0.2, gatehouse's own default).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PHASE=${PHASE:-6}
KILL_AT=${KILL_AT:-2}
CONNECTIONS=${CONNECTIONS:-10}
DELAY_MS=${DELAY_MS:-10}
PROBE_INTERVAL=${PROBE_INTERVAL:-100ms}
RETRY_BUDGET=${RETRY_BUDGET:-0.2}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS-failover.md}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release

log() { printf '[failover-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"
command -v curl >/dev/null || die "curl missing"
if [[ ${BUILD:-1} != 0 ]]; then
  log "building (cargo build --release --locked -p gatehouse -p testkit)"
  cargo build --release --locked -p gatehouse -p testkit
fi
for b in gatehouse mock-upstream; do [[ -x $BIN/$b ]] || die "$BIN/$b missing"; done

WORK=$(mktemp -d -t gatehouse-failover.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}
start_mock() { # $1 = port, $2 = log file; prints the pid
  "$BIN/mock-upstream" --port "$1" --threads 1 >"$2" 2>&1 &
  echo $!
}

P_PORT=$(free_port)
S_PORT=$(free_port)
PRIMARY_PID=$(start_mock "$P_PORT" "$WORK/primary.log")
PIDS+=("$PRIMARY_PID")
STANDBY_PID=$(start_mock "$S_PORT" "$WORK/standby.log")
PIDS+=("$STANDBY_PID")
wait_http "http://127.0.0.1:$P_PORT/health" 10 || die "primary mock did not start"
wait_http "http://127.0.0.1:$S_PORT/health" 10 || die "standby mock did not start"

GH_PORT=$(free_port)
GH_ADMIN=$(free_port)
cat >"$WORK/gatehouse.yaml" <<YAML
listen: 127.0.0.1:$GH_PORT
admin: 127.0.0.1:$GH_ADMIN
telemetry: { access_log: off }
providers:
  primary:
    kind: openai_compatible
    base_url: http://127.0.0.1:$P_PORT
    health: { path: /health, interval: $PROBE_INTERVAL, timeout: $PROBE_INTERVAL, healthy_threshold: 2, unhealthy_threshold: 2 }
  standby:
    kind: openai_compatible
    base_url: http://127.0.0.1:$S_PORT
    health: { path: /health, interval: $PROBE_INTERVAL, timeout: $PROBE_INTERVAL, healthy_threshold: 2, unhealthy_threshold: 2 }
models:
  - name: bench
    targets: [{ provider: primary }, { provider: standby }]
failover: { retry_budget: $RETRY_BUDGET }
YAML
"$BIN/gatehouse" --config "$WORK/gatehouse.yaml" >"$WORK/gatehouse.log" 2>&1 &
GH_PID=$!
PIDS+=("$GH_PID")
wait_http "http://127.0.0.1:$GH_ADMIN/readyz" 20 || die "gatehouse did not start: $(tail -5 "$WORK/gatehouse.log")"
echo '{"model":"bench","messages":[{"role":"user","content":"hello from the failover benchmark"}]}' >"$WORK/body.json"

# Requests served per target so far, from gatehouse's own counters: "primary standby failovers".
served() {
  curl -fsS "http://127.0.0.1:$GH_ADMIN/metrics" | python3 -c '
import re, sys
t = sys.stdin.read()
def total(pat):
    return sum(float(m) for m in re.findall(pat + r"[^\n]*\} (\S+)", t))
print(int(total(r"gatehouse_requests_total\{[^}]*target=\"primary\"")),
      int(total(r"gatehouse_requests_total\{[^}]*target=\"standby\"")),
      int(total(r"gatehouse_failovers_total\{")))'
}

run_phase() { # $1 = name, $2 = action at KILL_AT (none|kill|restart)
  local before after
  before=$(served)
  BENCH_BODY="$WORK/body.json" BENCH_DELAY_MS=$DELAY_MS wrk -t1 -c"$CONNECTIONS" -d"${PHASE}s" --timeout 10s \
    -s bench/post.lua "http://127.0.0.1:$GH_PORT/v1/chat/completions" >"$WORK/$1.wrk" 2>&1 &
  local wrk_pid=$!
  PIDS+=("$wrk_pid")
  sleep "$KILL_AT"
  case $2 in
    kill)
      log "killing the primary (pid $PRIMARY_PID)"
      kill -9 "$PRIMARY_PID"
      wait "$PRIMARY_PID" 2>/dev/null || true
      ;;
    restart)
      PRIMARY_PID=$(start_mock "$P_PORT" "$WORK/primary2.log")
      PIDS+=("$PRIMARY_PID")
      log "primary restarted on port $P_PORT (pid $PRIMARY_PID)"
      ;;
  esac
  wait "$wrk_pid" || true
  after=$(served)
  echo "$1 $(grep '^BENCH_RESULT ' "$WORK/$1.wrk" | sed 's/^BENCH_RESULT //') $before $after" >>"$WORK/phases"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "phase steady"
run_phase steady none
log "phase failure"
run_phase failure kill
log "phase recovery"
run_phase recovery restart
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
STATUS=$(curl -fsS "http://127.0.0.1:$GH_ADMIN/status?format=json" | python3 -c '
import json, sys
s = json.load(sys.stdin)["fallback"][0]
print(s["serving"], "-", s["why"])')

python3 - "$WORK/phases" "$RESULTS" <<PY
import json, sys, datetime
rows = []
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    js, tail = rest.rsplit("}", 1)
    r = json.loads(js + "}")
    b = [int(x) for x in tail.split()]
    before, after = b[:3], b[3:]
    rows.append((name, r, [a - c for a, c in zip(after, before)]))
out = []
out.append("# Warm fallback under load: the primary dies and comes back\n")
out.append("Written by \`bench/failover.sh\` on %s UTC (%s). Command: \`PHASE=$PHASE KILL_AT=$KILL_AT CONNECTIONS=$CONNECTIONS "
           "DELAY_MS=$DELAY_MS PROBE_INTERVAL=$PROBE_INTERVAL RETRY_BUDGET=$RETRY_BUDGET bench/failover.sh\`.\n"
           % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), "$(uname -m), $(nproc) CPUs"))
out.append("Setup: two \`mock-upstream\` processes (primary, standby), gatehouse (release build) probing both with "
           "\`GET /health\` every $PROBE_INTERVAL (thresholds 2/2), non-streamed chat requests, one paced wrk "
           "(closed loop: $CONNECTIONS connections, ${DELAY_MS} ms think time) per phase of ${PHASE} s. "
           "\`failure\`: the primary is SIGKILLed ${KILL_AT} s into the phase; \`recovery\`: it is restarted on its port "
           "${KILL_AT} s into the phase. No CPU pinning.\n")
out.append("**Noisy machine**: load average $LOAD_BEFORE before and $LOAD_AFTER after the run on a 2-core machine shared "
           "with other builds and tests; the latencies below include that contention. Compare phases with each other, "
           "not with bench/RESULTS.md.\n")
out.append("| phase | requests | req/s | p50 ms | p99 ms | max ms | client errors (non-2xx + socket) | served by primary | by standby | failovers |")
out.append("|---|---|---|---|---|---|---|---|---|---|")
for name, r, d in rows:
    e = r["errors"]
    errs = e["status"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
    lat = r["latency_us"]
    rps = r["requests"] / (r["duration_us"] / 1e6)
    out.append("| %s | %d | %.0f | %.2f | %.2f | %.1f | %d | %d | %d | %d |" % (
        name, r["requests"], rps, lat["p50"] / 1000, lat["p99"] / 1000, lat["max"] / 1000, errs, d[0], d[1], d[2]))
out.append("")
out.append("After the run \`/status\` said the model is served by: $STATUS.\n")
out.append("Reading it: client errors are the target (0). \`failovers\` in \`failure\` are the requests that were in "
           "flight to the primary when it died (or reached it before two probes marked it down) and were replayed on the "
           "standby before their first byte; a request that could not be retried within the retry budget "
           "(\`RETRY_BUDGET\`) would show as a client error. After that the standby takes every request at its first "
           "attempt. \`served by primary\` in \`recovery\` is the traffic that returned once two probes passed "
           "(the rest of the phase before the restart went to the standby).\n")
open(sys.argv[2], "w").write("\n".join(out))
print("\n".join(out))
PY
log "wrote $RESULTS"
