#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The whole path with real parts: two virtio-user guests (DPDK's
# net_virtio_user driver), two ringport-iothreads, stock OVS-DPDK:
#   guest A -> iothread A -> pA -> OVS -> pB -> iothread B -> guest B
# and back at the same time. Every frame must arrive intact and in order
# per flow, with exact counts at the guests, the iothreads and OVS, and each
# frame on the queue it should take: to the switch the ring of the queue
# it left the guest on (the default's locality), to a guest the queue the
# Toeplitz reference picks (one worker) or one of the receiving worker's
# own queues (two); rss_global.bpf.o takes the reference's queue both ways.
# The locality counters (handoff_packets, foreign_vq_writes) are 0 under
# the default. OVS must never map guest memory.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"
. "$rp_top/tests/lib/topo.sh"

rp_need_root
rp_need_hugepages 768
rp_need_ringport_bins
rp_need_iothread_bins
xdp=${RP_XDP_DIR:?}
N=${RINGPORT_IT_FRAMES:-40000}
# Frames per second per guest. OVS cannot be pushed back: a ring the
# iothread does not drain in time drops at the switch's tx. At 10000/s the
# 1024-deep ring rides out 100 ms of an iothread starved of CPU.
RATE=${RINGPORT_IT_RATE:-10000}

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
ovs_pid=$(ovs_sb_pid "$sb")


# (device, inode) of every shared file mapping of process $1.
shared_inodes() {
	awk '$4 != "00:00" && $5 != 0 && $6 ~ /^\/(memfd:|dev\/hugepages)/ {print $4":"$5}' \
		"/proc/$1/maps" | sort -u
}

# Guest memory (the virtio-user guests' EAL memory) is mapped by the
# iothreads (they must, to copy) and never by OVS.
check_guest_memory() {
	local g=$1 it=$2 gi n_it n_ovs
	gi=$(shared_inodes "$g")
	[ -n "$gi" ] || rp_fail "found no shared memory in guest pid $g"
	n_it=$(comm -12 <(echo "$gi") <(shared_inodes "$it") | wc -l)
	n_ovs=$(comm -12 <(echo "$gi") <(shared_inodes "$ovs_pid") | wc -l)
	[ "$n_it" -gt 0 ] || rp_fail "the iothread does not map its guest's memory (check broken?)"
	[ "$n_ovs" -eq 0 ] || rp_fail "ovs-vswitchd maps $n_ovs of the guest's memory files"
	rp_log "  guest memory: mapped by its iothread ($n_it files), not by OVS"
}

# ready CTL Q: the guest is running with Q RX queues and the switch is up.
ready() {
	"$ctl" --ctl "$1" status | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if s["link"] == "up" and s["vhost"]["rx_queues"] == int(sys.argv[1]) else 1)' "$2"
}

# run_case QUEUES NAME [rp-vguest options...]
run_case() {
	local q=$1 name=$2 k=$((next_id++)) ia ib ga gb ga_rc gb_rc it_a_args=
	# global_a=1: iothread A runs rss_global.bpf.o both ways, with
	# --shared-queues (shared_a=1, the default) or without (folded)
	[ "${global_a:-0}" = 1 ] &&
		it_a_args="--steer-to-switch $xdp/rss_global.bpf.o --steer-to-guest $xdp/rss_global.bpf.o"
	[ "${global_a:-0}" = 1 ] && [ "${shared_a:-1}" = 1 ] && it_a_args+=" --shared-queues"
	shift 2
	local d=$sb/$name
	rp_it_dir "$d"
	rp_log "$name: $q queue pair(s), $N frames each way, guest A <-> OVS <-> guest B"
	# shellcheck disable=SC2086 # it_a_args: iothread A's extra options
	rp_topo_iothread ia "$d" a --queues "$q" --cpus "${cpus_a:-0}" --poll adaptive ${it_a_args:-}
	rp_topo_iothread ib "$d" b --queues "$q" --cpus "${cpus_b:-1}" --poll adaptive
	rp_topo_wait "$d" a b
	rp_topo_cross "$sb" br0 100 200
	rp_topo_port "$sb" br0 "$d" a pA "${k}0" "options:n_rxq=$q" ofport_request=100
	rp_topo_port "$sb" br0 "$d" b pB "${k}1" "options:n_rxq=$q" ofport_request=200

	"$vguest" --vhost "$d/b-vhost.sock" --queues "$q" --send "$N" --expect "$N" --flows 61 \
		--rate "$RATE" --check-steer --go-file "$d/go" --timeout 150 "$@" \
		>"$d/gb.json" 2>"$d/gb.err" &
	gb=$!
	rp_on_exit rp_kill_pid $gb
	# shellcheck disable=SC2086 # check_a: empty where A's queues are its workers'
	"$vguest" --vhost "$d/a-vhost.sock" --queues "$q" --send "$N" --expect "$N" --flows 67 \
		--rate "$RATE" ${check_a---check-steer} --go-file "$d/go" --timeout 150 "$@" \
		>"$d/ga.json" 2>"$d/ga.err" &
	ga=$!
	rp_on_exit rp_kill_pid $ga
	rp_wait_for 30 "guest A and pA ready" ready "$d/a.sock.ctl" "$q" &&
		rp_wait_for 30 "guest B and pB ready" ready "$d/b.sock.ctl" "$q" || {
		cat "$d/iothread-a.log" "$d/iothread-b.log" "$d/ga.err" "$d/gb.err" >&2
		"$ctl" --ctl "$d/a.sock.ctl" status >&2 || true
		rp_fail "$name: not ready"
	}
	[ "$name" = fwd-1q ] && { check_guest_memory $ga $ia; check_guest_memory $gb $ib; }
	touch "$d/go"
	wait $ga && ga_rc=0 || ga_rc=$?
	wait $gb && gb_rc=0 || gb_rc=$?
	"$ctl" --ctl "$d/a.sock.ctl" status >"$d/sa.json" || rp_fail "status A failed"
	"$ctl" --ctl "$d/b.sock.ctl" status >"$d/sb.json" || rp_fail "status B failed"
	if [ $ga_rc -ne 0 ] || [ $gb_rc -ne 0 ]; then
		ovs_sb_log_tail "$sb" 20
		ovs_sb_appctl "$sb" dpctl/show -s >&2 || true
		tail -n 20 "$d/iothread-a.log" "$d/iothread-b.log" "$d/ga.err" "$d/gb.err" >&2
		for p in pA pB; do
			echo "$p: $(ovs_sb_vsctl "$sb" get Interface $p statistics)" >&2
		done
		echo "iothread A: $(cat "$d/sa.json")" >&2
		echo "iothread B: $(cat "$d/sb.json")" >&2
		echo "guest A: $(cat "$d/ga.json")" >&2
		echo "guest B: $(cat "$d/gb.json")" >&2
		rp_fail "$name: guests not clean (A rc $ga_rc, B rc $gb_rc)"
	fi
	local mode_a=${global_a:-0}${shared_a:-1} # 11: rss_global shared, 10: folded
	python3 - "$d" "$N" "$q" "${csum_case:-0}" "$mode_a" <<'PY' || rp_fail "$name: counts"
import json, sys
d, n, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
csum_case = sys.argv[4] == "1"
global_a, folded_a = sys.argv[5] == "11", sys.argv[5] == "10"
ld = lambda f: json.loads(open(f"{d}/{f}").readline())
ga, gb, sa, sb = ld("ga.json"), ld("gb.json"), ld("sa.json"), ld("sb.json")
for g, name in ((ga, "A"), (gb, "B")):
    assert g["clean"] and g["sent"] == n and g["received"] == n, (name, g)
    assert g["bad_payload"] == g["bad_order"] == g["gaps"] == g["bad_queue"] == 0, (name, g)
for s, g, other, name in ((sa, ga, gb, "A"), (sb, gb, ga, "B")):
    ts = [x["to_switch"]["packets"] for x in s["queues"]]
    tg = [x["to_guest"]["packets"] for x in s["queues"]]
    glob = name == "A" and global_a  # rss_global.bpf.o both ways, shared queues
    fold = name == "A" and folded_a  # rss_global.bpf.o folded onto the workers
    nw = len(s["workers"])
    if glob:
        # to-switch: each flow on the ring Toeplitz picks, as its guest
        # predicted
        assert ts == g["steer_expect"], (name, "to-switch rings", ts, g["steer_expect"])
    elif fold:
        pass  # the Toeplitz ring folded onto the ingress queue's worker
    else:
        # the default: each packet on the ring of the queue it left on
        assert ts == g["tx_queues"], (name, "to-switch rings", ts, g["tx_queues"])
    # to-guest: by guest queue, what its guest saw on each queue
    assert tg == g["rx_queues"], (name, "to-guest queues", tg, g["rx_queues"])
    if fold:
        assert all(tg[k] == 0 or any(w["packets"]["to_guest"] for i, w in
            enumerate(s["workers"]) if i == k % nw) for k in range(q)), (name, tg)
    elif glob or nw == 1:
        # the spec's queue (one worker, or the global program): what the
        # other guest predicted for its flows
        assert tg == other["steer_expect"], (name, "to-guest queues", tg,
            other["steer_expect"])
    else:
        # the default with several workers: each worker that got frames
        # from the switch spread them over every guest queue it owns, and
        # over no other (OVS's one PMD thread sends on one txq, so which
        # workers get frames is OVS's choice of rings)
        got = [i for i, w in enumerate(s["workers"]) if w["packets"]["to_guest"]]
        want = [k for k in range(q) if k % nw in got]
        used = [k for k in range(q) if tg[k]]
        assert got and used == want, (name, "to-guest queues", tg, "workers", got)
    for x in s["queues"]:
        for dirn in ("to_switch", "to_guest"):
            assert not any(x[dirn]["drops"].values()), (name, x)
    assert s["port"]["rejects"] == {}, (name, s["port"])
    partial = sum(x["to_switch"]["csum_partial"] for x in s["queues"])
    assert partial == (n if csum_case else 0), (name, "partial checksums", partial)
    assert s["cycles_per_packet"]["to_switch"] and s["cycles_per_packet"]["to_guest"], s
    # Adaptive polling slept between packets and was woken (by guest
    # kicks and the PMD's wake-up eventfds), not only by the time-out.
    assert sum(w["stages"]["wakeups"] for w in s["workers"]) > 0, s["workers"]
    # Each worker dequeued its guest queues. (To the guest, OVS's one PMD
    # thread sends on one txq, so one ring, so one worker: that is OVS's
    # XPS, not ours.)
    assert all(w["packets"]["to_switch"] for w in s["workers"]), s["workers"]
    # Locality counters: the default hands nothing between workers and
    # writes no other worker's virtqueue, with any number of workers;
    # rss_global.bpf.o with two does both.
    ho = sum(w["stages"]["handoff_packets"]["to_switch"] +
             w["stages"]["handoff_packets"]["to_guest"] for w in s["workers"])
    fv = sum(w["stages"]["foreign_vq_writes"] for w in s["workers"])
    fo = sum(w["stages"]["steer_folded"] for w in s["workers"])
    if glob and nw > 1:
        assert 0 < ho <= n and 0 < fv <= n, (name, "handoffs", ho, "foreign vq writes", fv)
    else:
        assert ho == 0 and fv == 0, (name, "handoffs", ho, "foreign vq writes", fv)
    # without --shared-queues a program's choice of another worker's queue
    # is folded onto the worker's own and counted; the default never needs it
    assert (fo > 0) == (fold and nw > 1), (name, "folded", fo)
    if nw > 1:
        how = "rss_global shared" if glob else "rss_global folded" if fold else "default"
        print(f"  iothread {name}, {nw} workers, {how}: {ho} of {n} handed over,"
              f" {fv} written to another worker's guest queue, {fo} folded;"
              f" rings {ts}, guest queues {tg}")
print(f"  guests: {n} frames each way, intact, in order, each flow on its expected queue;"
      f" iothread A rings {[x['to_switch']['packets'] for x in sa['queues']]}")
print(f"  iothread cycles/packet: A to-switch {sa['cycles_per_packet']['to_switch']:.0f},"
      f" B to-guest {sb['cycles_per_packet']['to_guest']:.0f} (shared CPUs: not a benchmark)")
PY
	rp_wait_for 30 "pA rx_packets=$N" ovs_sb_stat_is "$sb" pA rx_packets "$N" ||
		rp_fail "OVS counted rx_packets=$(ovs_sb_iface_stat "$sb" pA rx_packets) on pA, sent $N"
	rp_wait_for 30 "pB tx_packets=$N" ovs_sb_stat_is "$sb" pB tx_packets "$N" ||
		rp_fail "OVS counted tx_packets=$(ovs_sb_iface_stat "$sb" pB tx_packets) on pB, want $N"
	rp_log "  OVS: pA rx_packets=$N, pB tx_packets=$N"
	ovs_sb_del_port "$sb" br0 pA
	ovs_sb_del_port "$sb" br0 pB
	rp_kill_pid $ia
	rp_kill_pid $ib
	grep -E "ERR|EMER" "$d/iothread-a.log" "$d/iothread-b.log" >&2 && rp_fail "$name: an iothread logged errors"
	return 0
}

next_id=0
[ -n "${only_case:-}" ] || run_case 1 fwd-1q
[ -n "${only_case:-}" ] || run_case 4 fwd-4q
[ -n "${only_case:-}" ] || run_case 2 packed-2q --packed
# Checksum offload from the guest: each frame leaves with only the
# pseudo-header sum (virtio NEEDS_CSUM); the iothread hands it on as a
# partial checksum, the switch port completes it (OVS has no checksum
# offload by default), and the other guest verifies every UDP checksum.
[ -n "${only_case:-}" ] || csum_case=1 run_case 2 csum-offload --tx-csum
# Two workers in iothread A: queue pairs 0 and 2 on one, 1 and 3 on the
# other. The default keeps every packet on its worker: no hand-off, no
# shared virtqueue, all four rings and all four guest queues used.
RATE=5000 cpus_a=0,1 cpus_b=0 check_a= run_case 4 two-workers-4q
# The same with rss_global.bpf.o and --shared-queues: steering hands half
# the guest's packets to the other worker's rings (the inbox path) and
# writes the other's virtqueues; the per-ring and per-queue counts must
# still match the Toeplitz prediction exactly.
[ -n "${only_case:-}" ] ||
	RATE=5000 cpus_a=0,1 cpus_b=0 global_a=1 run_case 4 two-workers-global
# rss_global.bpf.o without --shared-queues: its choices of the other
# worker's queues are folded onto the worker's own, and counted.
[ -n "${only_case:-}" ] ||
	RATE=5000 cpus_a=0,1 cpus_b=0 global_a=1 shared_a=0 check_a= \
		run_case 4 two-workers-folded
echo "PASS: guest to guest through two iothreads and OVS-DPDK, nothing lost, every flow steered"
