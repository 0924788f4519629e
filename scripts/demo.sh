#!/usr/bin/env bash
# The demo: builds gatehouse and the vLLM simulator, starts two simulated replicas and gatehouse with
# examples/demo.yaml, and prints a curl to try. No provider key and no other service needed.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

export SIM_PORT_A=${SIM_PORT_A:-8001} SIM_PORT_B=${SIM_PORT_B:-8002}
export GATEHOUSE_LISTEN=${GATEHOUSE_LISTEN:-127.0.0.1:8080} GATEHOUSE_ADMIN=${GATEHOUSE_ADMIN:-127.0.0.1:9090}

echo "==> building (release; the first build takes a few minutes)"
cargo build --release --locked -p gatehouse -p vllm-sim

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_http() { # url name
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not come up at $1" >&2
  exit 1
}

target/release/vllm-sim --host 127.0.0.1 --port "$SIM_PORT_A" --seed 1 >/dev/null &
pids+=($!)
target/release/vllm-sim --host 127.0.0.1 --port "$SIM_PORT_B" --seed 2 >/dev/null &
pids+=($!)
wait_http "http://127.0.0.1:$SIM_PORT_A/health" "vllm-sim A"
wait_http "http://127.0.0.1:$SIM_PORT_B/health" "vllm-sim B"

target/release/gatehouse --config examples/demo.yaml &
pids+=($!)
wait_http "http://$GATEHOUSE_ADMIN/readyz" "gatehouse"

cat <<EOT

gatehouse is up: data plane http://$GATEHOUSE_LISTEN, admin http://$GATEHOUSE_ADMIN
two simulated vLLM replicas: 127.0.0.1:$SIM_PORT_A and 127.0.0.1:$SIM_PORT_B

Try:
  curl -s http://$GATEHOUSE_LISTEN/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"llama","messages":[{"role":"user","content":"Hello!"}]}'

  # streamed, with the model chosen by header; usage arrives on the last chunk
  curl -sN http://$GATEHOUSE_LISTEN/v1/chat/completions -H 'content-type: application/json' \\
    -H 'X-Gateway-Base-Model-Name: llama' -d '{"messages":[{"role":"user","content":"Hi"}],"stream":true}'

  curl -s http://$GATEHOUSE_LISTEN/v1/models
  open http://$GATEHOUSE_ADMIN/status      (and /metrics, /config)

Access log lines appear below. Ctrl-C to stop.
EOT
wait
