#!/usr/bin/env bash
# Long soak without waiting: N back-to-back copies of FILE, each shifted by SPAN seconds of capture
# time (editcap -t), streamed into `rdpscope replay --fast --format json -` (the live worker's code
# path: capture thread, channel, analysis thread, records), with its resident memory sampled every
# second. Capture time runs N x SPAN (20 copies of the 1,200 s soak capture: 6.7 hours) in about a
# minute of wall time; every timeout, sweep and bound works on packet time, as live.
#   bench/soak_replay.sh FILE N [SPAN]      (SPAN: the capture's length in seconds, default 1200)
set -euo pipefail
file=$1
n=$2
span=${3:-1200}
bin=${RDPSCOPE:-$(dirname "$0")/../target/release/rdpscope}
out=$(mktemp) err=$(mktemp) samples=$(mktemp)
trap 'rm -f "$out" "$err" "$samples"' EXIT
feed() {
  cat "$file"
  for ((i = 1; i < n; i++)); do editcap -F pcap -t $((span * i)) "$file" - | tail -c +25; done
}
feed | "$bin" replay --fast --format json - >"$out" 2>"$err" &
sleep 0.5
pid=$(pgrep -nf "replay --fast --format json -")
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  echo "$(($(date +%s) - start)) $(awk '/VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null || echo 0) $(wc -l <"$out")" | tee -a "$samples"
  sleep 1
done
wait || true
cat "$err"
awk -v n="$n" -v span="$span" '
  $2 > 0 { t[++k]=$3; r[k]=$2; if ($2>max) max=$2 }
  END {
    h=int(k/2); m=0; sx=sy=sxx=sxy=0
    for (i=h+1;i<=k;i++) { m++; sx+=t[i]; sy+=r[i]; sxx+=t[i]*t[i]; sxy+=t[i]*r[i] }
    slope=(m*sxy-sx*sy)/(m*sxx-sx*sx)
    printf "%d copies, %d s of capture time; records %d; RSS max %d KB, at the half %d KB, last %d KB\n", n, n*span, t[k], max, r[h+1], r[k]
    printf "RSS slope over the second half: %.3f KB per 1,000 records\n", slope*1000
  }' "$samples"
