#!/bin/sh
# Run fuzz targets one after another (one fuzzer process at a time), each for the given
# seconds: fuzz/run-all.sh "x224:600 tls:600 ...". Logs go to fuzz/logs/TARGET.log; a
# crash stops that target (its input lands in fuzz/artifacts/TARGET/) and the next starts.
set -u
cd "$(dirname "$0")/.."
mkdir -p fuzz/logs
for spec in $1; do
    t=${spec%%:*}; secs=${spec#*:}
    mkdir -p "fuzz/corpus/$t"
    echo "== $t $secs s $(date -u +%FT%TZ)" >> fuzz/logs/summary.txt
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" -- -max_total_time="$secs" -rss_limit_mb=1024 \
        -timeout=10 -print_final_stats=1 > "fuzz/logs/$t.log" 2>&1
    echo "   exit $? $(date -u +%FT%TZ)" >> fuzz/logs/summary.txt
done
