#!/usr/bin/env bash
# How long live writes wait while each background job runs (issues #16, #18).
# Copies DATA_DIR to a scratch directory (every run starts from the same
# state; the team-layout job creates partners), starts `downline serve`
# (BIN) on the copy, runs `downline-tools stall` for each job one after the
# other (team-layout last: it needs a genealogy unchanged since the start),
# stops the server, and prints one table row per job with the load average
# at its start. Extra arguments go to every `stall` run.
#
#   scripts/job-stall.sh BIN DATA_DIR [stall flags...]
#   scripts/job-stall.sh target/release/downline /work/data/dl-1m.pristine \
#       --ids-from /work/data/net1m/partners.csv --rate 1000
#
# Environment: DOWNLINE_TOOLS (default target/release/downline-tools),
# STALL_PORT (50091), STALL_JOBS (the five jobs), STALL_SCRATCH (a new
# temporary directory, removed at the end).
set -euo pipefail
if (($# < 2)); then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
bin=$1 source=$2
shift 2
tools=${DOWNLINE_TOOLS:-target/release/downline-tools}
port=${STALL_PORT:-50091}
jobs=${STALL_JOBS:-recalculation commission-run plan-change simulation team-layout}
scratch=${STALL_SCRATCH:-$(mktemp -d)}
dir=$scratch/data log=$scratch/serve.log
pid=
stop_server() {
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
trap 'stop_server; [[ -n ${STALL_SCRATCH:-} ]] || rm -rf "$scratch"' EXIT
cp -a "$source" "$dir"
"$bin" serve --data-dir "$dir" --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1200); do grep -q listening "$log" && break; sleep 0.5; done
grep -q listening "$log" || { cat "$log" >&2; exit 1; }
results=()
for job in $jobs; do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "== $job (load $load)"
  out=$("$tools" stall --target "http://127.0.0.1:$port" --job "$job" "$@")
  echo "$out"
  results+=("$(grep '^result ' <<<"$out") load=${load// //}")
done
stop_server
echo "== the server's log of the jobs"
grep -E "recalculation done|commission run done|plan updated|simulation done|team layout rebuilt" "$log" | sed -E 's/^.*INFO //' || true
printf '\n%-15s %10s %12s %12s %12s %12s %14s\n' job job_ms job_max_ms job_p999_ms ctl_max_ms ctl_p999_ms load
for r in "${results[@]}"; do
  field() { sed -E "s/.* $1=([^ ]*).*/\1/" <<<" $r"; }
  printf '%-15s %10s %12s %12s %12s %12s %14s\n' "$(field job)" "$(field job_ms)" "$(field job_max_ms)" \
    "$(field job_p999_ms)" "$(field control_max_ms)" "$(field control_p999_ms)" "$(field load)"
done
