#!/usr/bin/env bash
# Compare rdpscope with libpcap's raw read speed (tcpdump) and with tshark on one capture.
#
#   bench/compare.sh FILE [ROUNDS] [-- extra rdpscope args]
#
# Runs, ROUNDS times (default 5) in alternation so that load from other processes hits
# all three alike:
#   tcpdump -r FILE -w /dev/null
#   rdpscope analyze --format json FILE > /dev/null        (under /usr/bin/time -v: peak RSS)
#   tshark -r FILE -d tcp.port==3389,tpkt -Y rdp -T fields -e frame.number > /dev/null
# and prints each tool's median wall time, the ratios rdpscope/tcpdump and tshark/rdpscope,
# and rdpscope's median and largest peak RSS. SKIP_TSHARK=1 leaves tshark out (it takes
# minutes per round on a gigabyte). RDPSCOPE=path picks the binary (default: release build).
set -euo pipefail

file=${1:?usage: bench/compare.sh FILE [ROUNDS] [-- rdpscope args]}
shift
rounds=5
if [[ $# -gt 0 && $1 != "--" ]]; then rounds=$1; shift; fi
[[ $# -gt 0 && $1 == "--" ]] && shift
extra=("$@")
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${RDPSCOPE:-$here/target/release/rdpscope}
[[ -x $bin ]] || (cd "$here" && cargo build --release --quiet)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.6f\n", (a[NR/2]+a[NR/2+1])/2}'; }

size=$(stat -c %s "$file")
echo "file: $file ($(echo "$size / 1000000" | bc) MB), $rounds rounds, $(nproc) cores, $(uname -srm)"
for ((i = 1; i <= rounds; i++)); do
  t0=$(now); tcpdump -r "$file" -w /dev/null 2>/dev/null; t1=$(now)
  echo "$(elapsed "$t0" "$t1")" >>"$tmp/tcpdump"
  t0=$(now)
  /usr/bin/time -v -o "$tmp/time.$i" "$bin" analyze --format json "${extra[@]}" "$file" >/dev/null 2>"$tmp/err.$i" || rc=$?
  t1=$(now)
  if [[ ${rc:-0} -ge 2 ]]; then cat "$tmp/err.$i" >&2; exit 1; fi
  unset rc
  echo "$(elapsed "$t0" "$t1")" >>"$tmp/rdpscope"
  awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.$i" >>"$tmp/rss"
  if [[ -z ${SKIP_TSHARK:-} ]]; then
    t0=$(now)
    tshark -r "$file" -d tcp.port==3389,tpkt -Y rdp -T fields -e frame.number >/dev/null 2>&1
    t1=$(now)
    echo "$(elapsed "$t0" "$t1")" >>"$tmp/tshark"
  fi
  printf 'round %d: tcpdump %.3f s, rdpscope %.3f s (%d MB RSS)%s\n' "$i" "$(tail -1 "$tmp/tcpdump")" \
    "$(tail -1 "$tmp/rdpscope")" "$(( $(tail -1 "$tmp/rss") / 1024 ))" \
    "$([[ -z ${SKIP_TSHARK:-} ]] && printf ', tshark %.3f s' "$(tail -1 "$tmp/tshark")")"
done
td=$(median <"$tmp/tcpdump")
rd=$(median <"$tmp/rdpscope")
rss=$(median <"$tmp/rss")
rss_max=$(sort -n "$tmp/rss" | tail -1)
echo
printf 'median tcpdump   %8.3f s  (%.0f MB/s)\n' "$td" "$(echo "$size / 1000000 / $td" | bc -l)"
printf 'median rdpscope  %8.3f s  (%.0f MB/s)\n' "$rd" "$(echo "$size / 1000000 / $rd" | bc -l)"
if [[ -z ${SKIP_TSHARK:-} ]]; then
  ts=$(median <"$tmp/tshark")
  printf 'median tshark    %8.3f s  (%.0f MB/s)\n' "$ts" "$(echo "$size / 1000000 / $ts" | bc -l)"
fi
printf 'rdpscope / tcpdump = %.2f\n' "$(echo "$rd / $td" | bc -l)"
[[ -z ${SKIP_TSHARK:-} ]] && printf 'tshark / rdpscope  = %.1f\n' "$(echo "$ts / $rd" | bc -l)"
printf 'rdpscope peak RSS: median %d MB, max %d MB\n' "$((${rss%.*} / 1024))" "$((rss_max / 1024))"
