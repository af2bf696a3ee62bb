#!/usr/bin/env bash
# `make run`: checks the demo config, then runs zagent on it in the foreground.
# Usage: scripts/run-demo.sh BUILD_DIR CONFIG      (Ctrl-C stops zagent and its programs)
set -euo pipefail
build_dir=$(cd "${1:-build}" && pwd)
config=${2:-examples/demo.conf}
zagent="$build_dir/agent/zagent"
export ZAGENT_BUILD="$build_dir"

mkdir -p "$(dirname "$config")/run"
echo "==> $zagent -c $config --check"
"$zagent" -c "$config" --check
echo
echo "==> $zagent -c $config -n      (Ctrl-C to stop)"
echo "    demo-web answers on http://127.0.0.1:8765/ and crashes every 10-40 s;"
echo "    'curl http://127.0.0.1:8765/crash' makes it crash now. Watch zagent restart it."
echo
exec "$zagent" -c "$config" -n
