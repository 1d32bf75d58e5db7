#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# What a vIOMMU (device IOTLB) costs the iothread, per packet, in both
# directions, with a real Linux guest (QEMU, TCG) and the guest's own
# virtio-net driver, in one run:
#
#   plain    no vIOMMU: the backend reads guest-physical addresses
#   static   vIOMMU, the guest maps all its memory once, 1:1 (iommu=pt):
#            mappings that never change, as a DPDK guest's with vfio
#   dynamic  vIOMMU, the guest's driver maps every buffer it posts and
#            unmaps it when done (iommu=nopt; Linux flushes lazily): the
#            backend's IOTLB entries keep going stale
#
# Each case boots the guest (one queue pair, one vCPU) behind an iothread
# (one worker, busy polling, alone on --bench-cpu); rp-peer takes the
# switch's place on --gen-cpu, where the guest's QEMU runs too. The guest
# sends UDP flows as fast as its one TCG vCPU can (rp-gtool), and rp-peer
# sends it --rate 64-byte frames a second, which its driver takes and its
# stack drops. Over --seconds, for each direction: the iothread's busy
# cycles per packet (status counters), packets per busy iteration, and
# rte_vhost's IOTLB hits and misses per packet.
#
# A TCG guest moves tens of thousands of packets a second, not millions, so
# the bursts are small and every figure carries the per-iteration cost that
# a fast guest spreads over 32 packets: read the difference from "plain"
# (the table's "over plain"), not the absolute figures. A benchmark, never
# a test: nothing is asserted.
#
#   perf/viommu-bench.sh [--seconds S] [--bench-cpu N] [--gen-cpu N]
#                        [--rate PPS] [--cases "plain static dynamic"]
#                        [--out DIR] [--check]
#
# --check (the perf suite's smoke test): exit 1 unless every case moved
# packets both ways and only the vIOMMU cases used the IOTLB.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"
. "$(dirname "$0")/lib.sh"
. "$rp_top/tests/lib/qemu-guest.sh"

secs=10
bench_cpu=1
gen_cpu=0
rate=20000
cases="plain static dynamic"
out=""
check=0
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) perf_num viommu-bench --seconds "$2" 1; secs=$2; shift 2 ;;
	--bench-cpu) perf_num viommu-bench --bench-cpu "$2" 0; bench_cpu=$2; shift 2 ;;
	--gen-cpu) perf_num viommu-bench --gen-cpu "$2" 0; gen_cpu=$2; shift 2 ;;
	--rate) perf_num viommu-bench --rate "$2" 1; rate=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--check) check=1; shift ;;
	-h | --help) perf_usage "$0"; exit 0 ;;
	*) echo "viommu-bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
for c in $cases; do
	case $c in
	plain | static | dynamic) ;;
	*) echo "viommu-bench: unknown case '$c' (plain, static, dynamic)" >&2; exit 2 ;;
	esac
done

qg_need_vm_test
qg_need_gtool
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/ringport-viommu.XXXXXX")
mkdir -p "$out"
: >"$out/results.jsonl"

status() { "$ctl" --ctl "$d/a.sock.ctl" status; }
both_moving() {
	local s
	s=$(status) || return 1
	perf_py moving to_switch --threshold 20000 <<<"$s" &&
		perf_py moving to_guest --threshold 20000 <<<"$s"
}

run_case() {
	local c=$1 it p vm
	d=$out/$c
	mkdir -p "$d"
	qg_initramfs "$d"
	rp_it_dir "$d"
	rp_topo_iothread it "$d" a --queues 1 --cpus "$bench_cpu" --poll busy
	rp_topo_wait "$d" a
	taskset -c "$gen_cpu" "$peer" --role client --path "$d/a.sock" --timeout 86400 --sink \
		--expect 1000000000000 --send 1000000000000 --rate "$rate" --frame-size 64 --linger \
		>"$d/peer.json" 2>"$d/peer.err" &
	p=$!
	rp_on_exit rp_kill_pid $p
	case $c in
	plain) unset QG_VIOMMU ;;
	static) export QG_VIOMMU=pt ;;
	dynamic) export QG_VIOMMU=1 ;;
	esac
	# rp-peer's region announces 02:52:50:00:00:01: the guest's flows go
	# there (a static neighbour, no ARP).
	QG_APPEND="rp_peer_mac=02:52:50:00:00:01 rp_sink_port=5001 rp_flows=4" \
		qg_start_vm "$d" a 10.0.0.2 10.0.0.1 mq 02:52:50:00:00:02 100000000
	vm=$vm_a
	rp_wait_for 60 "QEMU's threads" test -d "/proc/$vm/task" && taskset -a -p -c "$gen_cpu" "$vm" >/dev/null
	rp_log "$c: TCG guest booting"
	rp_wait_for 300 "$c: traffic both ways" both_moving || {
		tail -n 20 "$d/a.console" "$d/a.qemu.log" "$d/iothread-a.log" "$d/peer.err" >&2
		status >&2 || true
		rp_fail "$c: no traffic both ways"
	}
	status >"$d/before.json"
	sleep "$secs" # the measurement window, not synchronisation
	status >"$d/after.json"
	local dir
	for dir in to_switch to_guest; do
		perf_py status-case "$c-$dir" "$dir" "$d/before.json" "$d/after.json" "$secs" |
			tee -a "$out/results.jsonl"
	done
	rp_kill_pid "$vm"
	rp_kill_pid "$p"
	rp_kill_pid "$it"
}

for c in $cases; do
	run_case "$c"
done
rc=0
perf_py table viommu "$out/results.jsonl" $([ $check -eq 1 ] && echo --check) >"$out/table.md" || rc=1
cat "$out/table.md"
echo "results: $out"
exit $rc
