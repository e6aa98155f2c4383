#!/bin/sh
# Run fuzz targets one after another (one fuzzer process at a time), each for the given
# seconds: fuzz/run-all.sh "x224:600 tls:600 ...". Built with -O and debug assertions (-a),
# so integer overflows are caught too. Logs go to fuzz/logs/TARGET.log (a second run of a
# target gets TARGET.2.log); a crash stops that target (its input lands in
# fuzz/artifacts/TARGET/) and the next one starts.
set -u
cd "$(dirname "$0")/.."
mkdir -p fuzz/logs
for spec in $1; do
    t=${spec%%:*}; secs=${spec#*:}
    log=fuzz/logs/$t.log; n=2
    while [ -e "$log" ]; do log=fuzz/logs/$t.$n.log; n=$((n + 1)); done
    mkdir -p "fuzz/corpus/$t"
    echo "== $t $secs s $log $(date -u +%FT%TZ)" >> fuzz/logs/summary.txt
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a "$t" -- -max_total_time="$secs" -rss_limit_mb=1024 \
        -timeout=10 -print_final_stats=1 > "$log" 2>&1
    echo "   exit $? $(date -u +%FT%TZ)" >> fuzz/logs/summary.txt
done
