#!/usr/bin/env bash
# Live soak: replay FILE with tcpreplay at the capture's own pace (or --multiplier M) onto one end
# of a veth pair (namespaces made here), run `rdpscope live --format json` on the other end, and
# sample rdpscope's resident memory every STEP seconds. Prints the samples, the records written,
# and the RSS slope (least squares) over the second half of the run, extrapolated to 24 hours.
# Needs root and tcpreplay. LOOP=N replays the file N times in a row (default 1): with a file of
# fresh addresses longer than the retry window, a loop is new traffic to the analysis.
#   bench/soak.sh FILE [MULTIPLIER] [STEP]
# Make FILE with fresh addresses per conversation, e.g.:
#   ./target/release/examples/make_bench /tmp/soak.pcap 600 --rdp-per-mb 20 --seconds-per-mb 2 --flood 0
set -euo pipefail
file=$1
mult=${2:-1}
step=${3:-10}
bin=${RDPSCOPE:-$(dirname "$0")/../target/release/rdpscope}
a=rdps-soak-a b=rdps-soak-b
out=$(mktemp) err=$(mktemp) samples=$(mktemp)
cleanup() { pkill -INT -f "rdpscope live -i sa" 2>/dev/null || true; sleep 0.5; ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; }
trap 'cleanup; rm -f "$out" "$err" "$samples"' EXIT
cleanup
ip netns add $a; ip netns add $b
for ns in $a $b; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip -n $a link add sa type veth peer name sb netns $b
ip -n $a link set sa up; ip -n $b link set sb up
ip netns exec $a "$bin" live -i sa --format json >"$out" 2>"$err" &
pid=$!
until grep -q "capturing on" "$err"; do sleep 0.1; done
# The live process is the child of `ip netns exec`: find it by its command line.
rpid=$(pgrep -f "rdpscope live -i sa" | head -1)
start=$(date +%s)
ip netns exec $b tcpreplay -q -i sb --loop="${LOOP:-1}" --multiplier="$mult" "$file" >/dev/null 2>&1 &
rep=$!
while kill -0 $rep 2>/dev/null; do
  t=$(( $(date +%s) - start ))
  rss=$(awk '/VmRSS/ {print $2}' /proc/"$rpid"/status)
  lines=$(wc -l <"$out")
  echo "$t $rss $lines" | tee -a "$samples"
  sleep "$step"
done
sleep 2
kill -INT $pid; wait $pid || true
grep -E "frames captured|connections" "$err" | tail -3
awk -v recs="$(grep -c '"type":"connection"' "$out")" '
  { t[NR]=$1; r[NR]=$2; if ($2>max) max=$2 }
  END {
    h=int(NR/2); n=0; sx=sy=sxx=sxy=0
    for (i=h+1;i<=NR;i++) { n++; sx+=t[i]; sy+=r[i]; sxx+=t[i]*t[i]; sxy+=t[i]*r[i] }
    slope=(n*sxy-sx*sy)/(n*sxx-sx*sx)
    printf "samples %d over %d s; records written %d; RSS first %d KB, last %d KB, max %d KB\n", NR, t[NR], recs, r[1], r[NR], max
    printf "RSS slope over the second half: %.2f KB/min = %.1f MB per 24 h\n", slope*60, slope*86400/1024
  }' "$samples"
