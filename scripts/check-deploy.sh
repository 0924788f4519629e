#!/usr/bin/env bash
# Offline checks of the container and Kubernetes deployment files (called by scripts/test.sh; needs the venv's
# hadolint and kubernetes-validate from tests/deploy/requirements.txt, and a built gatehouse binary as $1).
# The image itself is not built: there is no container engine on the CI machine (see docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
gatehouse=${1:?usage: check-deploy.sh PATH_TO_GATEHOUSE_BINARY}
bin=${VENV_BIN:-.venv/bin}

echo "hadolint Dockerfile"
"$bin/hadolint" --failure-threshold info Dockerfile

echo "kubernetes-validate --strict deploy/kubernetes/*.yaml (built-in kinds, Kubernetes 1.37 schemas)"
"$bin/kubernetes-validate" --strict --quiet deploy/kubernetes/*.yaml
# ExternalSecret and ServiceMonitor are CRDs: kubernetes-validate has no schema for them (it only warns), so
# check_deploy.py checks their shape and that they match the Secret and Service they refer to.

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mapfile -t out < <("$bin/python" scripts/check_deploy.py deploy/kubernetes "$scratch")
config=${out[0]}
echo "gatehouse check on the ConfigMap's gatehouse.yaml (with the Secrets' files mounted as the Deployment does)"
env "${out[@]:1}" "$gatehouse" check "$config"
echo "deploy checks passed"
