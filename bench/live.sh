#!/usr/bin/env bash
# Live capture rate: replay FILE with tcpreplay onto one end of a veth pair (in namespaces made
# here), run `rdpscope live --format json` on the other end, and report for each rate the frames
# rdpscope saw and what was dropped (by rdpscope and by the kernel). Needs root and tcpreplay.
#   bench/live.sh FILE [RATE...]      RATE: packets/s for tcpreplay --pps, or "top" (--topspeed)
set -euo pipefail
file=$1; shift
rates=("${@:-top}")
bin=${RDPSCOPE:-$(dirname "$0")/../target/release/rdpscope}
a=rdps-bench-a b=rdps-bench-b
cleanup() { pkill -INT -f "rdpscope live -i va" 2>/dev/null || true; sleep 0.5; ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $a; ip netns add $b
for ns in $a $b; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip -n $a link add va type veth peer name vb netns $b
ip -n $a link set va up; ip -n $b link set vb up
frames=$(capinfos -c -M "$file" | awk '/Number of packets/ {print $NF}')
echo "file: $file ($frames frames)"
printf '%-10s %12s %14s %14s %14s %10s\n' rate sent_pps seen dropped_rdpscope dropped_kernel secs
for rate in "${rates[@]}"; do
  err=$(mktemp)
  ip netns exec $a "$bin" live -i va --format json >/dev/null 2>"$err" &
  pid=$!
  until grep -q "capturing on" "$err"; do sleep 0.1; done
  if [ "$rate" = top ]; then opt=(--topspeed); else opt=(--pps="$rate"); fi
  start=$(date +%s.%N)
  out=$(ip netns exec $b tcpreplay -i vb "${opt[@]}" "$file" 2>&1)
  end=$(date +%s.%N)
  sleep 1
  kill -INT $pid; wait $pid || true
  line=$(grep "frames captured" "$err")
  seen=$(echo "$line" | sed -E 's/.*: ([0-9]+) frames captured.*/\1/')
  ours=$(echo "$line" | sed -E 's/.*dropped: ([0-9]+) by rdpscope.*/\1/')
  kern=$(echo "$line" | sed -E 's/.*, ([0-9]+) by the kernel.*/\1/')
  pps=$(echo "$out" | awk '/Rated:/ {for (i=1;i<=NF;i++) if ($i ~ /pps/) print $(i-1)}' | head -1)
  printf '%-10s %12s %14s %14s %14s %10.1f\n' "$rate" "${pps:-?}" "$seen" "$ours" "$kern" "$(echo "$end - $start" | bc)"
  rm -f "$err"
done
