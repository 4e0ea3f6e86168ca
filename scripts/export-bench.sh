#!/bin/bash
# The #17 export measurement: copies DATA (a data dir with a period 2026-11)
# to SCRATCH, serves it, runs `downline export --start-run` once, then times
# `downline export --run RUN` while sampling the server's VmRSS every 200 ms.
set -u
S=${SCRATCH:-/tmp/export-bench}; rm -rf $S; mkdir -p $S; cp -r ${DATA:-/work/data/dl-1m.pristine} $S/data
B=${DOWNLINE:-target/release/downline}
$B serve --data-dir $S/data --listen 127.0.0.1:50991 > $S/serve.log 2>&1 &
SP=$!; echo $SP > $S/serve.pid
for i in $(seq 1 600); do grep -q -i "listening\|serving" $S/serve.log && break; sleep 0.5; done
rss() { awk '/VmRSS/{print $2}' /proc/$SP/status; }
echo "rss_ready_kb $(rss)"
# run first (not timed as export)
$B export --server http://127.0.0.1:50991 --period 2026-11 --start-run --out $S/out0 > $S/run.log 2>&1
echo "rss_after_run_and_first_export_kb $(rss)"
( while kill -0 $SP 2>/dev/null; do echo "$(date +%s.%N) $(rss)"; sleep 0.2; done ) > $S/rss.log &
MP=$!
RUN=$(head -1 $S/out0/statements.csv >/dev/null; sed -n 2p $S/out0/statements.csv | cut -d, -f1)
echo "run $RUN"
echo "rss_before_kb $(rss)"
/usr/bin/time -v $B export --server http://127.0.0.1:50991 --period 2026-11 --run $RUN --out $S/out1 > $S/export.log 2> $S/export.time
echo "rss_after_kb $(rss)"
grep -E "Elapsed|Maximum resident" $S/export.time
cat $S/export.log
wc -l $S/out1/*.csv
kill $MP
sort -k2 -n $S/rss.log | tail -1
kill -INT $SP
