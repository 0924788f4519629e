#!/usr/bin/env bash
# The routing benchmark: workloads A (prefix-heavy), B (low sharing), C (ShareGPT-like), every strategy, same trace
# and seed per strategy. Writes bench/ROUTING.md. About 8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p bench-routing
bin=target/release/bench-routing
$bin --workload a --stages 15:20,30:20,45:20 "$@"
$bin --workload b --stages 10:20,20:20 "$@"
$bin --workload c --stages 15:20,30:20 "$@"
