#!/usr/bin/env bash
# A bounded fuzz run of every target in fuzz/: build with cargo-fuzz (-s none works on stable Rust), then run
# each target for FUZZ_SECONDS (default 10). Any crash fails the script and leaves its input in
# fuzz/artifacts/<target>/. Installs cargo-fuzz when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-10}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

cd fuzz
echo "==> cargo fuzz build -s none"
cargo fuzz build -s none -O
for target in $(cargo fuzz list); do
  echo "==> fuzz $target for ${seconds}s"
  log=$(mktemp)
  rc=0
  cargo fuzz run -s none -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1 || rc=$?
  grep -E "^Done" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "fuzz target $target failed (exit $rc); a failing input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  rm -f "$log"
done
echo "==> fuzz smoke passed"
