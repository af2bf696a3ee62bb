#!/usr/bin/env bash
# `make run`: checks the demo config with the freshly built zagent and shows what it resolved.
# Usage: scripts/run-demo.sh BUILD_DIR CONFIG
set -euo pipefail
build_dir=${1:-build}
config=${2:-examples/demo.conf}
zagent="$build_dir/agent/zagent"

mkdir -p "$(dirname "$config")/run"
echo "==> $zagent -c $config --check"
"$zagent" -c "$config" --check
echo
echo "==> $zagent -c $config --dump-config  (programs as zagent will run them)"
"$zagent" -c "$config" --dump-config | sed -n '/"groups"/,$p'
echo
echo "==> $zagent -c examples/ai-image-service.conf --check"
"$zagent" -c examples/ai-image-service.conf --check
echo
echo "Supervising these programs arrives with the agent's process lifecycle; today zagent"
echo "validates supervisord configs (--check) and shows the resolved model (--dump-config)."
