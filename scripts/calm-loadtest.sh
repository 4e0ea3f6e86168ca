#!/usr/bin/env bash
# Runs `downline-tools loadtest` only in the machine's calm minutes, the way the
# calm-window figures of BENCHMARKS.md were taken. Before each run,
# `downline-tools hiccups --duration-s 2` must find at most MAX_GAPS pauses over
# 1 ms (all cores together) and every core's 1 ms sleeps must wake at most
# MAX_LATE_MS late at p99; otherwise it waits and looks again.
#
# usage: scripts/calm-loadtest.sh RUNS [downline-tools loadtest flags...]
#   e.g. scripts/calm-loadtest.sh 6 --rpc get-volumes --rate 10000 --period 2026-11 --root 1
# env:   DOWNLINE_TOOLS (default target/release/downline-tools), MAX_GAPS (8),
#        MAX_LATE_MS (0.15), GIVE_UP_S (1200: stop looking after that long)
set -euo pipefail
runs=${1:?usage: $0 RUNS [loadtest flags...]}
shift
bin=${DOWNLINE_TOOLS:-target/release/downline-tools}
max_gaps=${MAX_GAPS:-8}
max_late_ms=${MAX_LATE_MS:-0.15}
give_up=$(( $(date +%s) + ${GIVE_UP_S:-1200} ))
done_runs=0
while (( done_runs < runs )) && (( $(date +%s) < give_up )); do
  report=$("$bin" hiccups --duration-s 2 --sleep-us 1000)
  gaps=$(awk -F'>1 ms ' '/gaps/ { split($2, a, ","); s += a[1] } END { print s + 0 }' <<<"$report")
  late=$(awk '/sleeps/ { for (i = 1; i <= NF; i++) if ($i == "p99") printf "%s ", $(i + 1) }' <<<"$report")
  calm=$(awk -v m="$max_late_ms" '{ c = 1; for (i = 1; i <= NF; i++) if ($i + 0 > m + 0) c = 0; print c }' <<<"$late")
  echo "$(date -u +%T) pauses over 1 ms: $gaps; 1 ms sleeps late at p99 (ms): $late"
  if (( gaps <= max_gaps )) && [[ $calm == 1 ]]; then
    done_runs=$(( done_runs + 1 ))
    echo "== calm: run $done_runs of $runs"
    "$bin" loadtest "$@"
  fi
done
(( done_runs == runs )) || { echo "gave up: $done_runs of $runs runs found a calm window" >&2; exit 1; }
