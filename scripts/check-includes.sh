#!/usr/bin/env bash
# The include rules of docs/architecture.md, checked on the source tree (a CTest test):
# 1. The agent's pure core (the sources of zagent_core in agent/CMakeLists.txt, and every
#    agent header they reach) includes no OS, socket or Asio header and no adapter header.
# 2. agent/ and ctl/ never include each other; common/ includes neither.
# 3. Production code never includes anything under tests/, nor a library's private header (a
#    `detail/` path: its API may change in any release, as Boost's SHA-1 digest did in 1.86).
# Prints each violation as file:line and exits 1 if there is any.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

fail=0
report() { echo "$1: $2"; fail=1; }

# C and POSIX headers (<unistd.h>, <sys/socket.h>, <linux/...>): the OS. Libraries (fmt/,
# nlohmann/, CLI/, boost/ but Asio) and the C++ standard headers are fine. The core may use
# the types and the wait-status macros over an int, which make no calls.
c_headers='^([^/]+\.h|(sys|linux|asm|arpa|net|netinet|bits)/.*)$'
# pcre2.h, expat.h: libraries (restart_on_output patterns, the XML-RPC decoder), not the OS.
allowed_c_headers='^(sys/types\.h|sys/wait\.h|pcre2\.h|expat\.h)$'

core_sources=$(sed -n '/^add_library(zagent_core/,/^)/p' agent/CMakeLists.txt |
  grep -E '^\s+[a-z_/]+\.cc' | sed -E 's#^\s+#agent/#')
[[ -n "$core_sources" ]] || { echo "no zagent_core sources found in agent/CMakeLists.txt"; exit 1; }

# The core: its sources, their headers, and every agent header those reach.
declare -A core=()
queue=()
for f in $core_sources; do
  queue+=("$f")
  if [[ -f "${f%.cc}.h" ]]; then queue+=("${f%.cc}.h"); fi
done
while ((${#queue[@]})); do
  f=${queue[0]}
  queue=("${queue[@]:1}")
  if [[ -n "${core[$f]:-}" ]]; then continue; fi
  core[$f]=1
  while read -r inc; do
    if [[ -f "$inc" ]]; then queue+=("$inc"); fi
  done < <(sed -nE 's/^\s*#\s*include\s+"(agent\/[^"]+)".*/\1/p' "$f")
done

for f in "${!core[@]}"; do
  while IFS=: read -r line text; do
    hdr=$(sed -nE 's/^\s*#\s*include\s+<([^>]+)>.*/\1/p' <<<"$text")
    if [[ -n "$hdr" ]]; then
      if [[ "$hdr" == boost/asio* || "$hdr" == boost/beast* || "$hdr" == boost/process* ]]; then
        report "$f:$line" "core file includes <$hdr> (Asio belongs to the adapters)"
      elif [[ "$hdr" =~ $c_headers && ! "$hdr" =~ $allowed_c_headers ]]; then
        report "$f:$line" "core file includes the system header <$hdr> (only adapters reach the OS)"
      fi
    fi
  done < <(grep -nE '^\s*#\s*include\s+<' "$f" || true)
done

# An adapter header reached from the core shows up above as the adapter's own includes; an
# adapter header that happens to include nothing of the OS is caught here by its folder.
for f in "${!core[@]}"; do
  case "$f" in
    agent/os/* | agent/daemon/daemon.* | agent/daemon/process_setup.* | agent/rpc/server* | agent/rpc/session* | \
      agent/rpc/peer.* | agent/logs/file_range.* | agent/crash/crash_store.* | \
      agent/logs/log_capture.* | agent/logs/main_log.* | \
      agent/logs/rotating_log.*)
      report "$f" "adapter file is reached from the pure core" ;;
  esac
done

check_no_include() {  # dir pattern why
  local hits
  hits=$(grep -rnE "^\s*#\s*include\s+\"($2)" "$1" --include='*.h' --include='*.cc' || true)
  while IFS= read -r hit; do
    if [[ -n "$hit" ]]; then report "${hit%%:#*}" "$3"; fi
  done <<<"$hits"
}
check_no_include agent 'ctl/' "agent/ includes ctl/"
check_no_include ctl 'agent/' "ctl/ includes agent/"
check_no_include common 'agent/|ctl/' "common/ includes agent/ or ctl/"
for d in agent ctl common; do
  check_no_include "$d" 'tests/' "production code includes tests/"
done

private=$(grep -rnE '^\s*#\s*include\s+[<"][^>"]*/detail/' agent ctl common \
  --include='*.h' --include='*.cc' || true)
while IFS= read -r hit; do
  if [[ -n "$hit" ]]; then report "${hit%%:#*}" "a library's private (detail/) header"; fi
done <<<"$private"

if ((fail)); then
  echo "include rules broken (docs/architecture.md)"
  exit 1
fi
echo "include rules hold: ${#core[@]} core files checked"
