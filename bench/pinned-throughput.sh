#!/bin/bash
# hello-world ×2 with the server side on one core: bare node and nodeunits
# (as it ships, without runtime metrics, without its sandbox, without
# either), each round in a rotated order, both workers of every setup on
# CPU 0 and wrk on CPU 1. BENCHMARKS.md, "Where the tax against bare node
# goes", reads its output. Run it in a test box, as root, from the checkout,
# after `cargo build --release`:
#
#   target/release/testhost-run env ROUNDS=12 bash "$PWD/bench/pinned-throughput.sh"
#
# It prints one line per sample: round, setup, keep-alive or close
# (a connection per request), req/s, and how busy each CPU was.
set -u
ROUNDS=${ROUNDS:-12}
SECS=${SECS:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
RELEASE=${NODEUNITS_BIN_DIR:-$HERE/../target/release}
HELLO=$HERE/apps/hello.js
# The units' sandbox has a /tmp and /var/tmp of its own: the helper is
# copied where every unit sees it.
BIN=/usr/local/lib/nodeunits-pinned
WORK=/srv/nodeunits-pinned
mkdir -p $BIN $WORK
cp "$RELEASE/nodeunits" "$RELEASE/nodeunits-helper" $BIN/ || exit 1
: > $WORK/ecosystem.toml
port=3001
for v in shipped nometrics nosandbox neither; do
  {
    printf '[[apps]]\nname = "%s"\nscript = "%s"\ninstances = 2\n' $v "$HELLO"
    printf 'exec_mode = "cluster"\nlisten = ["127.0.0.1:%s"]\nuser = "root"\n' $port
    case $v in
      nometrics) echo 'pmx = false' ;;
      nosandbox) echo 'hardening = "off"' ;;
      neither) printf 'pmx = false\nhardening = "off"\n' ;;
    esac
    echo
  } >> $WORK/ecosystem.toml
  mkdir -p /etc/systemd/system/$v@.service.d
  printf '[Service]\nCPUAffinity=0\n' > /etc/systemd/system/$v@.service.d/pin.conf
  port=$((port + 1))
done
$BIN/nodeunits apply --system $WORK/ecosystem.toml > /dev/null || exit 1
# Bare node as the benchmark runs it, in a scope under system.slice.
taskset -c 0 systemd-run --quiet --scope --collect --slice=system.slice -- \
  systemd-socket-activate -l 127.0.0.1:3000 -E PORT=3000 \
  node "$HERE/apps/bare-launch.js" 2 $WORK/bare.pids "$HELLO" > /dev/null 2>&1 &
for port in 3000 3001 3002 3003 3004; do
  for _ in $(seq 100); do
    curl -fsS -o /dev/null http://127.0.0.1:$port/ 2> /dev/null && break
    sleep 0.1
  done
done
names=(bare shipped nometrics nosandbox neither)

# The busy and idle ticks of CPU 0 and CPU 1.
ticks() { awk '/^cpu[01] /{printf "%d %d ", $2+$3+$4+$7+$8, $5+$6}' /proc/stat; }

wrk_pinned() {
  taskset -c 1 systemd-run --quiet --scope --collect --slice=load.slice -- wrk -t2 -c32 "$@"
}

sample() { # PORT keepalive|close
  local close=()
  [ "$2" = close ] && close=(-H 'Connection: close')
  wrk_pinned -d1s "${close[@]}" http://127.0.0.1:$1/ > /dev/null 2>&1
  local before after rps
  before=$(ticks)
  rps=$(wrk_pinned -d${SECS}s "${close[@]}" http://127.0.0.1:$1/ 2>&1 | awk '/Requests\/sec/{print $2}')
  after=$(ticks)
  echo "$rps busy(cpu0 cpu1 %): $(echo $before $after | awk '{b0=$5-$1; i0=$6-$2; b1=$7-$3; i1=$8-$4; printf "%.0f %.0f", 100*b0/(b0+i0), 100*b1/(b1+i1)}')"
}

for round in $(seq $ROUNDS); do
  for k in 0 1 2 3 4; do
    i=$(((k + round) % 5))
    for mode in keepalive close; do
      echo "round $round ${names[$i]} $mode $(sample $((3000 + i)) $mode)"
    done
  done
done
