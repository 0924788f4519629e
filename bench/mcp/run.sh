#!/usr/bin/env bash
# The MCP benchmark: `tools/call` of server-everything's `echo`, straight to server-everything and through gatehouse
# (upstream `everything` → the same server-everything process), in one run, driven by `mcp-bench`
# (bench/mcp/src/main.rs); then the same against `mcp-echo` (bench/mcp/src/echo.rs, a fast MCP server with a still
# baseline) to isolate gatehouse's own hop. Writes bench/RESULTS-mcp.md. A bounded load: RATE calls/s for DURATION s per paced run.
#
#   bench/mcp/run.sh
#   RATE=200 ROUNDS=5 bench/mcp/run.sh
#
# Knobs (environment): RATE (paced calls/s against server-everything, default 100; node stalls more above it),
# FAST_RATE (paced calls/s against mcp-echo, default 500: more samples per round make its p99 steadier),
# DURATION (s per paced run, 10), WARMUP (s, 2), ROUNDS (3),
# WORKERS (closed-loop clients, 8), MAX_DURATION (s per closed-loop run, 8), BUILD (0: use the binaries already in
# $CARGO_TARGET_DIR/release), RESULTS (output file), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RATE=${RATE:-100}
FAST_RATE=${FAST_RATE:-500}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-8}
MAX_DURATION=${MAX_DURATION:-8}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS-mcp.md}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release

log() { printf '[mcp-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v node >/dev/null || { log "node is required (apt-get install nodejs npm)"; exit 1; }
EVERYTHING=$ROOT/tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js
if [[ ! -f $EVERYTHING ]]; then
  log "installing server-everything (npm ci in tests/mcp)"
  (cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ ${BUILD:-1} != 0 ]]; then
  log "building (cargo build --release --locked -p gatehouse -p bench-mcp)"
  cargo build --release --locked -p gatehouse -p bench-mcp
fi
for b in gatehouse mcp-bench mcp-echo; do [[ -x $BIN/$b ]] || { log "$BIN/$b missing"; exit 1; }; done

WORK=$(mktemp -d -t gatehouse-mcp-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
EV_PORT=$(free_port)
GW_PORT=$(free_port)
ADMIN_PORT=$(free_port)

PORT=$EV_PORT node "$EVERYTHING" streamableHttp >"$WORK/everything.out" 2>"$WORK/everything.err" &
PIDS+=($!)
cat >"$WORK/gatehouse.yaml" <<YAML
listen: 127.0.0.1:$GW_PORT
admin: 127.0.0.1:$ADMIN_PORT
telemetry: { access_log: off }
mcp:
  session_key: { value: "$(python3 -c 'import secrets; print(secrets.token_hex(32))')" }
  upstreams:
    everything: { url: "http://127.0.0.1:$EV_PORT/mcp" }
YAML
"$BIN/gatehouse" --config "$WORK/gatehouse.yaml" >"$WORK/gatehouse.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  if grep -q "listening on port" "$WORK/everything.err" 2>/dev/null && curl -fs "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null; then
    break
  fi
  sleep 0.1
done
grep -q "listening on port" "$WORK/everything.err" || { log "server-everything did not start"; cat "$WORK/everything.err" >&2; exit 1; }

log "load: $ROUNDS rounds of $RATE calls/s × ${DURATION}s per target, then $WORKERS closed-loop clients × ${MAX_DURATION}s"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
"$BIN/mcp-bench" --direct "http://127.0.0.1:$EV_PORT/mcp" --gateway "http://127.0.0.1:$GW_PORT/mcp" \
  --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
  --workers "$WORKERS" --max-duration "$MAX_DURATION" >"$WORK/out.txt"

# The same measurement against mcp-echo (bench/mcp/src/echo.rs), an MCP server answering in microseconds with a
# still baseline, through a second gatehouse whose one upstream is `fast`: gatehouse's own hop, isolated.
"$BIN/mcp-echo" >"$WORK/echo.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/echo.out" 2>/dev/null && break; sleep 0.1; done
ECHO_ADDR=$(sed -n 's/^mcp-echo listening on //p' "$WORK/echo.out")
[[ -n $ECHO_ADDR ]] || { log "mcp-echo did not start"; exit 1; }
GW2_PORT=$(free_port)
ADMIN2_PORT=$(free_port)
cat >"$WORK/gatehouse-fast.yaml" <<YAML
listen: 127.0.0.1:$GW2_PORT
admin: 127.0.0.1:$ADMIN2_PORT
telemetry: { access_log: off }
mcp:
  session_key: { value: "$(python3 -c 'import secrets; print(secrets.token_hex(32))')" }
  upstreams:
    fast: { url: "http://$ECHO_ADDR/mcp" }
YAML
"$BIN/gatehouse" --config "$WORK/gatehouse-fast.yaml" >"$WORK/gatehouse-fast.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$ADMIN2_PORT/readyz" >/dev/null && break; sleep 0.1; done
log "fast upstream: the same load against mcp-echo at $ECHO_ADDR"
"$BIN/mcp-bench" --direct "http://$ECHO_ADDR/mcp" --gateway "http://127.0.0.1:$GW2_PORT/mcp" --gateway-tool fast_echo \
  --rate "$FAST_RATE" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
  --workers "$WORKERS" --max-duration "$MAX_DURATION" >"$WORK/out-fast.txt"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

export RESULTS LOAD_BEFORE LOAD_AFTER
export CPUS=$(nproc) CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
export NODE_VERSION=$(node --version)
export EVERYTHING_VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$ROOT/tests/mcp/node_modules/@modelcontextprotocol/server-everything/package.json")
export REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export COMMAND="RATE=$RATE FAST_RATE=$FAST_RATE DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS WORKERS=$WORKERS MAX_DURATION=$MAX_DURATION bench/mcp/run.sh"
python3 "$ROOT/bench/mcp/report.py" "$WORK/out.txt" "$WORK/out-fast.txt"
log "wrote $RESULTS"
