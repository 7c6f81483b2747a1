#!/bin/sh
# GET /_ping, machined vs Debian's dockerd in the same run: the same load generator
# (bench/engine/pingbench, 4 keep-alive connections on each engine's unix socket) in alternating
# 2-second rounds. Reported: requests per second (wall clock) and requests per CPU-second of the
# engine process (utime+stime from /proc). This machine is shared, so wall-clock rates swing
# with other work; CPU cost per request much less so, and the target is set on it: machined
# serves at least 2.5x as many requests per CPU-second as dockerd, over all the rounds (every
# request of a side over every CPU tick it used: one round alone swings by +-25% here with how
# the two cores' scheduler batches the wakeups; per-round figures are printed too).
set -eu
PINGBENCH=$1
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-api-ping
rounds=$(eb_reps 7 5)
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
eb_start_dockerd
eb_start_machined
"$PINGBENCH" "$EB_DOCKERD_SOCK" 4 1 >/dev/null # warm up
"$PINGBENCH" "$EB_MACHINED_SOCK" 4 1 >/dev/null
d_rps="" m_rps="" d_eff="" m_eff="" d_n=0 m_n=0 d_t=0 m_t=0
i=0
while [ $i -lt "$rounds" ]; do
    for side in dockerd machined; do
        if [ $side = dockerd ]; then
            sock=$EB_DOCKERD_SOCK pid=$EB_DOCKERD_PID
        else
            sock=$EB_MACHINED_SOCK pid=$EB_MACHINED_PID
        fi
        t0=$(cpu_ticks "$pid")
        out=$("$PINGBENCH" "$sock" 4 2)
        t1=$(cpu_ticks "$pid")
        n=$(echo "$out" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
        rps=$(echo "$out" | sed -n 's/.*rps=\([0-9]*\).*/\1/p')
        eff=$(awk -v n="$n" -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.0f", t ? n * hz / t : n * hz }')
        echo "round $((i + 1)) $side: $out cpu_s=$(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { print t / hz }') req_per_cpu_s=$eff"
        if [ $side = dockerd ]; then
            d_rps="$d_rps $rps" d_eff="$d_eff $eff" d_n=$((d_n + n)) d_t=$((d_t + t1 - t0))
        else
            m_rps="$m_rps $rps" m_eff="$m_eff $eff" m_n=$((m_n + n)) m_t=$((m_t + t1 - t0))
        fi
    done
    i=$((i + 1))
done
# shellcheck disable=SC2086
per_cpu_s() { awk -v n="$1" -v t="$2" -v hz="$hz" 'BEGIN { printf "%.0f", t ? n * hz / t : 0 }'; }
set -- "$(eb_median $m_rps)" "$(eb_median $d_rps)" "$(per_cpu_s $m_n $m_t)" "$(per_cpu_s $d_n $d_t)"
eb_result "machined /_ping (median of $rounds rounds)" "$1" "req/s"
eb_result "dockerd /_ping (anchor, same run)" "$2" "req/s"
eb_result "machined /_ping per engine CPU-second, all rounds (per round: $m_eff )" "$3" "req/cpu-s"
eb_result "dockerd /_ping per engine CPU-second, all rounds (anchor; per round: $d_eff )" "$4" "req/cpu-s"
ratio=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.1f", a / b }')
eb_result "ratio per CPU-second" "$ratio" "x"
eb_result "wall-clock ratio" "$(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }')" "x"
eb_result "load average during the run" "$(cut -d' ' -f1-3 /proc/loadavg)" ""
eb_check "machined serves >= 2.5x dockerd's /_ping requests per CPU-second ($ratio x)" \
    "awk -v a=$3 -v b=$4 'BEGIN { exit !(a >= 2.5 * b) }'"
eb_finish
