#!/usr/bin/env bash
# The routing benchmark: workloads A (prefix-heavy), B (low sharing), C (ShareGPT-like), every strategy, same trace
# and seed per strategy. Writes bench/ROUTING.md. About 20 minutes on 2 cores.
# Time scale 1.0 (the simulators run at model speed): at 0.5 the eight simulators need twice the CPU per second,
# and on a shared machine their steps were starved, which inflated every strategy's latencies (bench/ROUTING.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p bench-routing
bin=target/release/bench-routing
$bin --workload a --stages 15:20,30:20,45:20,60:20 --time-scale 1.0 "$@"
$bin --workload b --stages 10:20,20:20 --time-scale 1.0 "$@"
$bin --workload c --stages 15:20,30:20 --time-scale 1.0 "$@"
