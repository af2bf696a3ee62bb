#!/usr/bin/env bash
# Installs the Debian 12 packages that zagent's build and tests need, only where missing.
# Safe to run any number of times. As root it installs; as another user it prints the
# command to run.
set -euo pipefail

packages=(
  g++ make cmake pkg-config
  libboost1.81-dev libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libpcre2-dev libexpat1-dev
  # The HTTP front's tests: the stock supervisorctl, a real browser, a Prometheus text parser.
  supervisor chromium python3-prometheus-client
)
# Extra tools by purpose: `--bench` adds the peers measured side by side; `--fuzz` adds clang
# and its libFuzzer/sanitizer runtimes (libclang_rt.fuzzer-x86_64.a) for `make fuzz`.
case "${1:-}" in
  --bench) packages+=(s6 strace) ;;
  --fuzz) packages+=(clang libclang-rt-14-dev) ;;
  "") ;;
  *)
    echo "usage: $0 [--bench|--fuzz]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "zagent needs these Debian packages: ${missing[*]}" >&2
  echo "Run as root:  apt-get update && $cmd" >&2
  exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
