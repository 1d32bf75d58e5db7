#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# OVS PMD cost of a ringport port beside OVS's own ports, in one run on one
# sandboxed OVS-DPDK whose single PMD thread is pinned to --pmd-cpu:
#
#   rx-null      net_null rx -> drop                   (the OVS floor)
#   rx-ringport  rp-peer -> ringport rx -> drop
#   rx-vhost     testpmd virtio-user txonly -> dpdkvhostuserclient rx -> drop
#   tx-ringport  net_null rx -> ringport tx -> rp-peer
#   tx-vhost     net_null rx -> dpdkvhostuserclient tx -> testpmd rxonly
#
# --queues N gives the rx cases' ports N rx queues, all polled by the one
# PMD thread, and their senders N queues (rp-peer's rings, testpmd's
# virtio-user queues; net_null gets n_rxq N): the OVS cost per packet at
# that queue count, one PMD thread. The tx cases keep one queue (OVS sends
# on one txq per PMD thread). --spread N has rp-peer start each frame
# (buffer index mod N) cache lines into its buffer (rp-peer --spread); the
# default, 7, is how the iothread places a guest's frames (rp_ipc_color());
# 1 starts every frame at its buffer's start, as before 2026-12-03.
# --alternate K (rx-ringport, --spread above 1): K windows on one region,
# rp-peer's spread paused in every other one (SIGUSR1), rows
# rx-ringport-spread and rx-ringport-plain. On some machines a region's
# cost changes with the hugepages behind it and over time (perf/README.md,
# "Frame placement"): alternating on one region compares like with like.
# --peer-ring and --peer-bufs size rp-peer's rings and buffer pool (4096
# and 8192: a sender no ring limits; the iothread has 1024 and 4096 or
# more).
#
# For each case it clears dpif-netdev/pmd-stats, lets traffic run for
# --seconds, and reads processing cycles and packets back: cycles per
# packet (processing cycles / packets received by the PMD) and Mpps. The
# generators (rp-peer, testpmd) run on --gen-cpu. Frames are 64 bytes;
# rp-peer sends --bare ones (its test header only), as testpmd's txonly
# sends a template, so that neither sender limits the rate.
# The tx cases are fed by net_null (its rx cost is in their figures; a
# net_null tx port cannot be the tx floor, since OVS polls its rx too).
#
# Prints one JSON object per case, then a table with the ratios the
# switch-port issue targets (ringport rx <= 1.25 x floor; ringport tx <=
# 0.8 x native vhost tx). A benchmark, never a test: nothing is asserted.
#
#   perf/ovs-port-bench.sh [--seconds S] [--pmd-cpu N] [--gen-cpu N]
#                          [--queues N] [--spread N] [--alternate K]
#                          [--peer-ring N] [--peer-bufs N] [--cases LIST] [--out DIR]
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"
. "$(dirname "$0")/lib.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

secs=10
pmd_cpu=1
gen_cpu=0
queues=1
spread=7
alternate=0
peer_ring=4096
peer_bufs=8192
cases="rx-null rx-ringport rx-vhost tx-ringport tx-vhost"
out=""
usage() {
	perf_usage "$0"
}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--pmd-cpu) pmd_cpu=$2; shift 2 ;;
	--gen-cpu) gen_cpu=$2; shift 2 ;;
	--queues) queues=$2; shift 2 ;;
	--spread) spread=$2; shift 2 ;;
	--alternate) alternate=$2; shift 2 ;;
	--peer-ring) peer_ring=$2; shift 2 ;;
	--peer-bufs) peer_bufs=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "ovs-port-bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
for v in "$secs" "$pmd_cpu" "$gen_cpu" "$queues" "$spread" "$alternate" "$peer_ring" \
	"$peer_bufs"; do
	[[ $v =~ ^[0-9]+$ ]] || { echo "ovs-port-bench: '$v' is not a number" >&2; exit 2; }
done
[ "$queues" -ge 1 ] && [ "$queues" -le 16 ] ||
	{ echo "ovs-port-bench: --queues $queues: need 1 to 16" >&2; exit 2; }
[ "$spread" -ge 1 ] && [ "$spread" -le 16 ] ||
	{ echo "ovs-port-bench: --spread $spread: need 1 to 16" >&2; exit 2; }
[ "$alternate" -eq 0 ] || [ "$spread" -gt 1 ] ||
	{ echo "ovs-port-bench: --alternate needs --spread above 1" >&2; exit 2; }
for c in $cases; do
	case $c in
	rx-null | rx-ringport | rx-vhost | tx-ringport | tx-vhost) ;;
	*) echo "ovs-port-bench: unknown case '$c'" >&2; exit 2 ;;
	esac
done

rp_need_root
rp_need_hugepages 768
rp_need_ringport_bins
testpmd=$(command -v dpdk-testpmd) || rp_fail "dpdk-testpmd not found (package dpdk-dev)"

ovs_sb_start sb --plugin "$pmd" --pmd-mask "$(printf '0x%x' $((1 << pmd_cpu)))"
ovs_sb_add_bridge "$sb" br0
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/ringport-bench.XXXXXX")
mkdir -p "$out"
gen=(taskset -c "$gen_cpu")

flowing() { # PORT RX|TX
	local n
	n=$(ovs_sb_port_packets "$sb" "$1" "$2") && [ -n "$n" ] && [ "$n" -gt 10000 ]
}

# measure CASE: clear the PMD stats, let traffic run, read them back.
measure() {
	local name=$1 row
	ovs_sb_appctl "$sb" dpif-netdev/pmd-stats-clear >/dev/null
	sleep "$secs" # the measurement window, not synchronisation
	ovs_sb_pmd_stats "$sb" >"$out/$name.stats"
	ovs_sb_appctl "$sb" dpif-netdev/pmd-perf-show >"$out/$name.perf" 2>&1 || true
	local nq=1
	case $name in rx-*) nq=$queues ;; esac
	row=$(perf_py ovs-case "$name" --pmd-stats "$out/$name.stats" --seconds "$secs" \
		--queues "$nq") ||
		rp_fail "$name: the PMD received no packets (see $out/$name.stats)"
	echo "$row" | tee -a "$out/results.jsonl"
}

add_vhu() { # OFPORT SOCK: OVS's native vhost-user port, client of testpmd
	ovs_sb_vsctl "$sb" add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient \
		"options:vhost-server-path=$2" "ofport_request=$1" || rp_fail "vhu0 not added"
}

flow() { # IN ACTIONS
	ovs_sb_ofctl "$sb" del-flows br0
	ovs_sb_ofctl "$sb" add-flow br0 "in_port=$1,actions=$2"
}

start_peer() { # VAR ARGS...: an rp-peer server on the generator CPU
	local var=$1 _p
	shift
	"${gen[@]}" "$peer" --role server --timeout $((secs * (alternate + 1) + 120)) --ring-size "$peer_ring" --bufs "$peer_bufs" \
		"$@" >"$out/peer.json" 2>"$out/peer.err" &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	printf -v "$var" '%s' "$_p"
}

start_testpmd() { # VAR MODE SOCK [QUEUES]
	local var=$1 mode=$2 sock=$3 nq=${4:-1} _p
	# Two lcores on one CPU (testpmd needs two; 2 cores here); the guest
	# memory must be one file.
	# --in-memory: no hugepage files left behind by a killed guest.
	"${gen[@]}" "$testpmd" --lcores "0@$gen_cpu,1@$gen_cpu" --no-pci -m 512 \
		--in-memory --single-file-segments --file-prefix "rpbench$$" \
		--vdev "net_virtio_user0,path=$sock,server=1,queues=$nq" -- \
		--rxq="$nq" --txq="$nq" \
		--forward-mode="$mode" --txpkts=64 --auto-start --stats-period 5 \
		>"$out/testpmd-$mode.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	rp_wait_for 20 "testpmd listening on $sock" test -S "$sock" ||
		{ tail -n 20 "$out/testpmd-$mode.log" >&2; rp_fail "testpmd did not start"; }
	printf -v "$var" '%s' "$_p"
}

# feed_and_measure CASE PORT: net_null0 (OpenFlow port 1) feeds PORT (2).
feed_and_measure() {
	ovs_sb_add_port "$sb" br0 null0 net_null0 ofport_request=1 || rp_fail "null0"
	flow 1 output:2
	rp_wait_for 20 "traffic" flowing "$2" TX || rp_fail "$1: no traffic"
	measure "$1"
	ovs_sb_del_port "$sb" br0 null0
}

run_case() {
	local c=$1 pid
	rp_log "$c: ${secs}s"
	case $c in
	rx-null)
		ovs_sb_add_port "$sb" br0 null0 net_null0 ofport_request=1 \
			"options:n_rxq=$queues" || rp_fail "null0"
		flow 1 drop
		rp_wait_for 20 "traffic" flowing null0 RX || rp_fail "$c: no traffic"
		measure "$c"
		ovs_sb_del_port "$sb" br0 null0
		;;
	rx-ringport)
		start_peer pid --path "$out/rp.sock" --send 1000000000000 --frame-size 64 --bare --spread "$spread" \
			--queues "$queues"
		rp_wait_for 10 "peer socket" test -S "$out/rp.sock" || rp_fail "peer did not start"
		flow 1 drop
		ovs_sb_add_port "$sb" br0 rp0 "net_ringport0,path=$out/rp.sock" ofport_request=1 \
			"options:n_rxq=$queues" || rp_fail "rp0"
		rp_wait_for 20 "traffic" flowing rp0 RX || rp_fail "$c: no traffic"
		if [ "$alternate" -gt 0 ]; then
			local k
			for ((k = 0; k < alternate; k++)); do
				# rp-peer starts with its spread on; each signal flips it.
				if ((k % 2 == 0)); then measure rx-ringport-spread; else measure rx-ringport-plain; fi
				kill -USR1 "$pid"
			done
		else
			measure "$c"
		fi
		ovs_sb_del_port "$sb" br0 rp0
		rp_kill_pid "$pid"
		;;
	rx-vhost)
		start_testpmd pid txonly "$out/vhu.sock" "$queues"
		flow 1 drop
		add_vhu 1 "$out/vhu.sock"
		rp_wait_for 30 "traffic" flowing vhu0 RX || rp_fail "$c: no traffic"
		measure "$c"
		ovs_sb_del_port "$sb" br0 vhu0
		rp_kill_pid "$pid"
		;;
	tx-ringport)
		start_peer pid --path "$out/rp.sock" --expect 1000000000000 --linger
		rp_wait_for 10 "peer socket" test -S "$out/rp.sock" || rp_fail "peer did not start"
		ovs_sb_add_port "$sb" br0 rp0 "net_ringport0,path=$out/rp.sock" ofport_request=2 ||
			rp_fail "rp0"
		feed_and_measure "$c" rp0
		ovs_sb_del_port "$sb" br0 rp0
		rp_kill_pid "$pid"
		;;
	tx-vhost)
		start_testpmd pid rxonly "$out/vhu.sock"
		add_vhu 2 "$out/vhu.sock"
		rp_wait_for 30 "vhu0 link up" bash -c \
			"[ \"\$(ovs-vsctl --db=unix:$sb/db.sock get Interface vhu0 link_state)\" = up ]" ||
			rp_fail "vhu0 link down"
		feed_and_measure "$c" vhu0
		ovs_sb_del_port "$sb" br0 vhu0
		rp_kill_pid "$pid"
		;;
	esac
}

: >"$out/results.jsonl"
for c in $cases; do
	run_case "$c"
done

perf_py table ovs-port "$out/results.jsonl"
echo "results: $out/results.jsonl"
