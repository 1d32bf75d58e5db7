#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The iothread's cost per packet beside testpmd's vhost PMD (rte_vhost with
# no switch behind it), in one run, 64-byte frames, one queue pair:
#
#   dequeue-vhost     virtio-user txonly -> testpmd net_vhost rxonly
#   dequeue-iothread  virtio-user txonly -> ringport-iothread -> region ->
#                     rp-peer --sink (the switch's place)
#   enqueue-vhost     testpmd net_vhost txonly -> virtio-user rxonly
#   enqueue-iothread  rp-peer (the switch's place, frames placed as the
#                     PMD places them: --spread 7) -> region ->
#                     ringport-iothread -> virtio-user rxonly
#   idle-adaptive     an attached, idle port with --poll adaptive: the
#                     iothread's CPU time (all threads, schedstat) as a
#                     share of one core (the issue's bound: 2 %)
#
# The measured side (testpmd's forwarding lcore, the iothread's worker)
# runs alone on --bench-cpu; the guest (testpmd virtio-user, two lcores on
# one CPU) and rp-peer share --gen-cpu. testpmd's figure is its own
# --record-core-cycles "CPU cycles/packet" (its cycles / packets); the
# iothread's is its status counters' busy cycles / packets for the stage,
# taken over --seconds (a busy iteration: one that took packets or moved on
# ones it held, so flushing and reaping done after a full ring count too),
# also without the iterations its CPU was taken in (over 250 us:
# "uninterrupted"; testpmd's figure cannot leave those out) and over
# iterations with a full 32-packet burst only. The iothread adds to
# rte_vhost's work: steering (a Toeplitz hash per packet), descriptors,
# checking every descriptor the other side hands over, and the buffer
# returns. Each case's status documents (before and after the window)
# are saved in --out.
#
# --queues N (iothread cases) gives the guest N queue pairs and the
# iothread one worker per CPU of --iothread-cpus (default: --bench-cpu);
# the guest's txonly then varies the source address per packet, so the
# default RSS spreads it over the rings, and packets steered to a ring
# another worker owns go through its inbox. The figures are then summed
# over the workers.
#
# Prints one JSON object per case, then a table and the ratios the
# dp-iothread issue targets (iothread <= 1.15 x vhost, plus steering). A
# benchmark, never a test: nothing is asserted.
#
#   perf/iothread-bench.sh [--seconds S] [--bench-cpu N] [--gen-cpu N]
#                          [--queues N] [--iothread-cpus LIST]
#                          [--cases LIST] [--out DIR]
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"
. "$(dirname "$0")/lib.sh"

secs=10
bench_cpu=1
gen_cpu=0
queues=1
it_cpus=""
cases="dequeue-vhost dequeue-iothread enqueue-vhost enqueue-iothread idle-adaptive"
out=""
usage() {
	perf_usage "$0"
}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--bench-cpu) bench_cpu=$2; shift 2 ;;
	--gen-cpu) gen_cpu=$2; shift 2 ;;
	--queues) queues=$2; shift 2 ;;
	--iothread-cpus) it_cpus=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "iothread-bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
for v in "$secs" "$bench_cpu" "$gen_cpu" "$queues"; do
	[[ $v =~ ^[0-9]+$ ]] || { echo "iothread-bench: '$v' is not a number" >&2; exit 2; }
done
for c in $cases; do
	case $c in
	dequeue-vhost | dequeue-iothread | enqueue-vhost | enqueue-iothread | idle-adaptive) ;;
	*) echo "iothread-bench: unknown case '$c'" >&2; exit 2 ;;
	esac
done

rp_need_root
rp_need_hugepages 512
rp_need_ringport_bins
rp_need_iothread_bins
testpmd=$(command -v dpdk-testpmd) || rp_fail "dpdk-testpmd not found (package dpdk-dev)"
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/ringport-itbench.XXXXXX")
mkdir -p "$out"
: >"$out/results.jsonl"

# guest VAR MODE SOCK: testpmd on net_virtio_user (client of SOCK).
guest() {
	local var=$1 mode=$2 sock=$3 q=${4:-1} _p multi=()
	[ "$q" -eq 1 ] || multi=(--rxq="$q" --txq="$q" --txonly-multi-flow)
	taskset -c "$gen_cpu" "$testpmd" --lcores "0@$gen_cpu,1@$gen_cpu" --no-pci -m 512 \
		--single-file-segments --in-memory --file-prefix "rpitg$$" \
		--vdev "net_virtio_user0,path=$sock,queues=$q" -- \
		--forward-mode="$mode" --txpkts=64 --auto-start --stats-period 5 "${multi[@]}" \
		>"$out/guest-$mode.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	printf -v "$var" '%s' "$_p"
}

# vhost_pmd VAR MODE SOCK: testpmd on net_vhost, forwarding on --bench-cpu.
vhost_pmd() {
	local var=$1 mode=$2 sock=$3 _p
	"$testpmd" --lcores "0@$gen_cpu,1@$bench_cpu" --no-pci -m 512 --in-memory \
		--file-prefix "rpitv$$" --vdev "net_vhost0,iface=$sock,queues=1" -- \
		--forward-mode="$mode" --txpkts=64 --record-core-cycles --auto-start --stats-period 60 \
		>"$out/vhost-$mode.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	rp_wait_for 20 "vhost socket $sock" test -S "$sock" ||
		{ tail -n 20 "$out/vhost-$mode.log" >&2; rp_fail "testpmd vhost did not start"; }
	printf -v "$var" '%s' "$_p"
}

iothread() { # VAR [POLL]
	local var=$1 _p
	rm -f "$out/v.sock" "$out/p.sock"
	"$iot" --vhost "$out/v.sock" --port "$out/p.sock" --cpus "${it_cpus:-$bench_cpu}" \
		--queues "$queues" --poll "${2:-busy}" \
		>"$out/iothread.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	rp_wait_for 20 "iothread sockets" test -S "$out/p.sock.ctl" ||
		{ cat "$out/iothread.log" >&2; rp_fail "iothread did not start"; }
	printf -v "$var" '%s' "$_p"
}

peer() { # VAR ARGS...: rp-peer in the switch's place, on the generator CPU
	local var=$1 _p
	shift
	taskset -c "$gen_cpu" "$peer" --role client --path "$out/p.sock" --timeout 86400 \
		"$@" >"$out/peer.json" 2>"$out/peer.err" &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	printf -v "$var" '%s' "$_p"
}

# moving DIR: the switch side is attached and the stage's queue counters
# (packets that really went through, not drops) pass 100000.
moving() {
	"$ctl" --ctl "$out/p.sock.ctl" status | perf_py moving "$1"
}

report() { # CASE PACKETS CYCLES
	perf_py case "$1" "$2" "$3" 0 | tee -a "$out/results.jsonl"
}

# testpmd's own figure, printed when it stops: "CPU cycles/packet=X (busy
# cycles=C / total rxonly packets=P) ...".
measure_testpmd() {
	local name=$1 pid=$2 log=$3 line c p
	sleep "$secs" # the measurement window, not synchronisation
	kill -INT "$pid"
	rp_wait_for 20 "testpmd stats" grep -q "CPU cycles/packet" "$log" ||
		{ tail -n 30 "$log" >&2; rp_fail "$name: no cycles from testpmd"; }
	line=$(grep "CPU cycles/packet" "$log" | tail -n 1)
	c=$(sed -n 's/.* cycles=\([0-9]*\) .*/\1/p' <<<"$line")
	p=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' <<<"$line")
	[ -n "$p" ] && [ "$p" -gt 0 ] || rp_fail "$name: testpmd forwarded nothing: $line"
	report "$name" "$p" "$c"
}

measure_iothread() {
	local name=$1 dir=$2
	rp_wait_for 30 "traffic through $dir" moving "$dir" ||
		{ tail -n 20 "$out"/*.log >&2; rp_fail "$name: no traffic"; }
	"$ctl" --ctl "$out/p.sock.ctl" status >"$out/status-$name-before.json"
	sleep "$secs" # the measurement window, not synchronisation
	"$ctl" --ctl "$out/p.sock.ctl" status >"$out/status-$name.json"
	perf_py status-case "$name" "$dir" "$out/status-$name-before.json" \
		"$out/status-$name.json" "$secs" | tee -a "$out/results.jsonl"
}

# CPU nanoseconds of every thread of process $1.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'
}
up() {
	"$ctl" --ctl "$out/p.sock.ctl" status | perf_py link-up
}

run_case() {
	local c=$1 v g i p
	rp_log "$c: ${secs}s"
	rm -f "$out/v.sock"
	case $c in
	dequeue-vhost)
		vhost_pmd v rxonly "$out/v.sock"
		guest g txonly "$out/v.sock"
		measure_testpmd "$c" $v "$out/vhost-rxonly.log"
		rp_kill_pid $g; rp_kill_pid $v
		;;
	enqueue-vhost)
		vhost_pmd v txonly "$out/v.sock"
		guest g rxonly "$out/v.sock"
		measure_testpmd "$c" $v "$out/vhost-txonly.log"
		rp_kill_pid $g; rp_kill_pid $v
		;;
	dequeue-iothread)
		iothread i
		peer p --sink --touch --expect 1000000000000 --linger
		guest g txonly "$out/v.sock" "$queues"
		measure_iothread "$c" to_switch
		rp_kill_pid $g; rp_kill_pid $p; rp_kill_pid $i
		;;
	idle-adaptive)
		iothread i adaptive
		peer p --sink --expect 1000000000000 --linger
		"$vguest" --vhost "$out/v.sock" --forever --cpu "$gen_cpu" >/dev/null 2>&1 &
		g=$!
		rp_on_exit rp_kill_pid $g
		rp_wait_for 30 "guest and switch attached" up || rp_fail "$c: link not up"
		local a b
		a=$(cpu_ns $i)
		sleep "$secs" # the measurement window, not synchronisation
		b=$(cpu_ns $i)
		perf_py idle "$a" "$b" "$secs" | tee -a "$out/results.jsonl"
		rp_kill_pid $g; rp_kill_pid $p; rp_kill_pid $i
		;;
	enqueue-iothread)
		iothread i
		guest g rxonly "$out/v.sock"
		peer p --send 1000000000000 --frame-size 64 --spread 7
		measure_iothread "$c" to_guest
		rp_kill_pid $g; rp_kill_pid $p; rp_kill_pid $i
		;;
	esac
}

for c in $cases; do
	run_case "$c"
done

perf_py table iothread "$out/results.jsonl"
echo "results: $out"
