#!/usr/bin/env bash
# Server CPU per request: starts `downline serve` (BIN) on DATA_DIR, runs
# `downline-tools loadtest` against it with the given flags, and prints the
# server's user+system CPU divided by the requests scheduled, then the
# load test's report. Used for the "server CPU per request" rows of
# BENCHMARKS.md (e.g. the same load against two builds, one after the other).
#
#   scripts/cpu-per-request.sh BIN DATA_DIR PORT REQUESTS [loadtest flags...]
#   scripts/cpu-per-request.sh target/release/downline /tmp/d 50071 20000 \
#       --rpc record-order --rate 1000 --duration-s 20 --ids-from net/partners.csv --period 2026-11
set -euo pipefail
if (($# < 4)); then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
bin=$1 dir=$2 port=$3 requests=$4
shift 4
tools=${DOWNLINE_TOOLS:-target/release/downline-tools}
log=$(mktemp)
"$bin" serve --data-dir "$dir" --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.1; done
grep -q listening "$log" || { cat "$log" >&2; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
report=$("$tools" loadtest --target "http://127.0.0.1:$port" "$@")
after=$(ticks)
hz=$(getconf CLK_TCK)
echo "server CPU: $(((after - before) * 1000000 / hz / requests)) µs a request ($((after - before)) ticks of 1/$hz s, $requests requests)"
echo "$report"
