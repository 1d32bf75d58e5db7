#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A multi-queue Linux guest: QEMU (TCG, 4 vCPUs) with a 4-queue-pair
# virtio-net (mq=on) behind an iothread with 2 workers, on an OVS bridge
# with a DPDK test guest (rp-vguest) behind a second iothread.
#  1. The guest's virtio_net driver runs 4 combined channels (rp-gtool:
#     ethtool -L/-l, which busybox lacks).
#  2. Guest -> switch: the guest sends 16 UDP flows from each vCPU (XPS:
#     vCPU c sends on TX queue c). Every one of the 4 rings carries them
#     (iothread status), the guest's own counters show all 4 TX queues
#     used, and OVS received all the guest sent.
#  3. Switch -> guest: rp-vguest sends 64 flows, twice, the same frames;
#     OVS spreads them over the port's tx queues by hash
#     (other_config:tx-steering=hash: with one PMD thread OVS would use one
#     ring, and so one worker). Every one of the 4 guest RX queues gets
#     frames, in the iothread's counters and in the guest's own; and each
#     queue gets exactly as many in the second round as in the first: a
#     flow stays on its queue.
#  4. No packet was handed between workers, no virtqueue written by a
#     worker that does not own it, nothing folded, nothing dropped.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/qemu-guest.sh"
qg_need_vm_test
qg_need_gtool
nq=${RP_MQ_QUEUES:-4} flows=16 count=8 vflows=64 vcount=3200

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
d=$sb/qemu
mkdir -p "$d"
qg_initramfs "$d"
rp_it_dir "$d"
rp_topo_iothreads "$d" "a b" --queues $nq --cpus 0,1 --poll adaptive
rp_topo_port "$sb" br0 "$d" a vma 0 options:n_rxq=$nq other_config:tx-steering=hash ofport_request=1
rp_topo_port "$sb" br0 "$d" b vmb 1 options:n_rxq=$nq ofport_request=2
ovs_sb_ofctl "$sb" del-flows br0
ovs_sb_ofctl "$sb" add-flow br0 "in_port=2,actions=output:1"
ovs_sb_ofctl "$sb" add-flow br0 "in_port=1,actions=drop"

# The guest has rp-vguest's destination addresses, and sends to 10.0.0.1
# (a static neighbour: no ARP on the queues).
QG_QUEUES=$nq QG_SMP=${RP_MQ_SMP:-$nq} \
	QG_APPEND="rp_peer_mac=02:52:50:00:00:01 rp_sink_port=5001 rp_flows=$flows" \
	qg_start_vm "$d" a 10.0.0.2 10.0.0.1 mq 02:52:50:00:00:02 $count
rp_log "TCG guest, $nq vCPUs, $nq queue pairs, booting"
if ! rp_wait_for 300 "the guest's flows" grep -q "RP-GUEST: sent" "$d/a.console"; then
	tail -n 20 "$d/a.console" "$d/a.qemu.log" >&2
	rp_fail "the guest did not send its flows"
fi
grep "RP-GUEST" "$d/a.console" | head -3

# 1. Channels.
grep -q "RP-GUEST: channels combined $nq max $nq" "$d/a.console" ||
	rp_fail "the guest does not run $nq combined channels: $(grep channels "$d/a.console")"

status() { "$ctl" --ctl "$d/$1.sock.ctl" status; }
# guest_queues: the guest's latest per-queue counters, "rx P0.. tx P0.."
guest_queues() { grep "RP-GUEST: queues" "$d/a.console" | tail -n 1 | sed 's/.*queues //'; }

# 2. Guest -> switch: every frame the guest sent reached OVS, on all rings.
sent=$((nq * flows * count))
ovs_in() { ovs_sb_port_packets "$sb" vma RX; }
ovs_has() { local n; n=$(ovs_in) && [ -n "$n" ] && [ "$n" -ge "$1" ]; }
rp_wait_for 60 "OVS to receive the guest's $sent frames" ovs_has $sent ||
	{ status a >&2; tail -n 5 "$d/iothread-a.log" >&2; rp_fail "OVS received $(ovs_in) of the guest's $sent frames"; }
rp_wait_for 30 "the guest's counters" grep -q "RP-GUEST: queues" "$d/a.console" ||
	rp_fail "the guest printed no queue counters"
status a | python3 -c '
import json, sys
s, nq, sent, gq = json.load(sys.stdin), int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split()
rings = [q["to_switch"]["packets"] for q in s["queues"][:nq]]
gtx = list(map(int, gq[gq.index("tx") + 1:]))
print(f"  to the switch: rings {rings} (sum {sum(rings)}, the guest sent {sent}); guest TX queues {gtx}")
assert len(gtx) == nq and all(gtx), f"guest TX queues {gtx}: not all {nq} used"
assert all(r > 0 for r in rings), f"rings {rings}: not all {nq} used"
assert sum(rings) >= sent, f"rings carried {sum(rings)} < {sent} sent"
' $nq $sent "$(guest_queues)" || rp_fail "guest -> switch"

# 3. Switch -> guest, twice the same flows.
to_guest() { # the iothread's per-guest-queue to_guest packets + drops
	status a | python3 -c '
import json, sys
s, nq = json.load(sys.stdin), int(sys.argv[1])
print(" ".join(str(q["to_guest"]["packets"] + sum(q["to_guest"]["drops"].values()))
               for q in s["queues"][:nq]))' $nq
}
round_got() { # BEFORE: frames for the guest since BEFORE
	local b=($1) a=($(to_guest)) q got=0
	for q in $(seq 0 $((nq - 1))); do got=$((got + ${a[$q]} - ${b[$q]})); done
	echo $got
}
round_done() { [ "$(round_got "$1")" -ge $vcount ]; }
round() { # N: one rp-vguest run of the same flows
	local before after
	before=($(to_guest))
	"$vguest" --vhost "$d/b-vhost.sock" --queues $nq --send $vcount --flows $vflows \
		--rate 4000 --frame-size 64 --timeout 120 >"$d/vguest$1.json" 2>"$d/vguest$1.log" ||
		{ cat "$d/vguest$1.log" "$d/vguest$1.json" >&2; rp_fail "rp-vguest round $1 failed"; }
	# rp-vguest is done when OVS has taken its frames; the iothread may
	# still be delivering them.
	rp_wait_for 30 "round $1 to reach the guest's queues" round_done "${before[*]}" ||
		rp_fail "round $1: the iothread saw $(round_got "${before[*]}") of $vcount frames for the guest"
	after=($(to_guest))
	delta=()
	for q in $(seq 0 $((nq - 1))); do delta+=($((${after[$q]} - ${before[$q]}))); done
}
round 1
r1=("${delta[@]}")
round 2
r2=("${delta[@]}")
rp_log "to the guest: per queue, round 1 [${r1[*]}], round 2 [${r2[*]}] (of $vcount each)"
for q in $(seq 0 $((nq - 1))); do
	[ "${r1[$q]}" -gt 0 ] || rp_fail "guest RX queue $q got nothing: [${r1[*]}]"
	[ "${r1[$q]}" -eq "${r2[$q]}" ] ||
		rp_fail "the same flows went to other queues in round 2: [${r1[*]}] then [${r2[*]}]"
done
# The guest's own RX counters (printed every second): every queue
# received, all of them in all.
rx_sum() { guest_queues | awk '{ s = 0; for (i = 2; $i != "tx"; i++) s += $i; print s }'; }
rx_has() { [ "$(rx_sum)" -ge "$1" ]; }
rp_wait_for 30 "the guest's RX counters to count both rounds" rx_has $((2 * vcount)) || true
python3 -c '
import sys
gq, want, nq = sys.argv[1].split(), int(sys.argv[2]), int(sys.argv[3])
rx = list(map(int, gq[1:gq.index("tx")]))
print(f"  guest RX queues {rx} (sum {sum(rx)}, sent {want})")
assert len(rx) == nq and all(rx), f"guest RX queues {rx}: not all {nq} received"
assert sum(rx) >= want, f"the guest received {sum(rx)} < {want}"
' "$(guest_queues)" $((2 * vcount)) $nq || { tail -n 4 "$d/a.console" >&2; rp_fail "switch -> guest, in the guest"; }

# 4. Locality and drops.
status a | python3 -c '
import json, sys
s = json.load(sys.stdin)
for w in s["workers"]:
    st = w["stages"]
    h, f, fo = st["handoff_packets"], st["foreign_vq_writes"], st["steer_folded"]
    assert not any(h.values()) and f == 0 and fo == 0, st
for i, q in enumerate(s["queues"]):
    for dr in ("to_switch", "to_guest"):
        assert not any(q[dr]["drops"].values()), (i, dr, q[dr]["drops"])
nw = len(s["workers"])
print(f"  {nw} workers: no hand-off, no foreign virtqueue write, nothing folded, no drops")
' || rp_fail "locality or drops"
echo "PASS: a 4-queue Linux guest sends and receives on all its queues; flows keep their queue"
