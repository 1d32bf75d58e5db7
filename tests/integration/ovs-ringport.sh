#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock OVS-DPDK loads librte_net_ringport.so (EAL -d). Two rp-peer servers
# play the VM side of two ports:
#   peer A -> port pA -> flow in_port=pA,actions=output:pB -> port pB -> peer B
# Every frame must arrive intact (CRC) and in order per sending queue, with
# exact counts at the peers and in OVS, for 1 and for 4 queue pairs. Then
# ovs-vswitchd must not have mapped any region it was not given, and both
# peers must have every buffer back.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 512
pmd=${RINGPORT_PMD:-$rp_top/build/switch-port/librte_net_ringport.so}
peer=${RP_PEER:-$rp_top/build/tests/rp-peer}
[ -f "$pmd" ] || rp_fail "PMD not built at $pmd"
[ -x "$peer" ] || rp_fail "rp-peer not built at $peer"
N=${RINGPORT_OVS_FRAMES:-200000}

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
ovs_pid=$(ovs_sb_pid "$sb")

link_up() { [ "$(ovs_sb_vsctl "$sb" get Interface "$1" link_state)" = "up" ]; }

run_case() { # QUEUES
	local q=$1 a b pa pb rx tx
	local d=$sb/case$q
	mkdir -p "$d"
	rp_log "$q queue pair(s): $N frames A -> OVS -> B"
	# Nothing in the path pushes back on the sender: like a NIC, OVS drops
	# what a slow receiver cannot take. For exact counts A is paced and B
	# buffers generously (CI shares 2 cores between OVS, A and B).
	"$peer" --role server --path "$d/b.sock" --queues "$q" --expect "$N" --timeout 120 \
		--ring-size 8192 --bufs 16384 \
		>"$d/b.json" 2>"$d/b.err" &
	pb=$!
	rp_on_exit rp_kill_pid $pb
	"$peer" --role server --path "$d/a.sock" --queues "$q" --send "$N" --timeout 120 \
		--rate "${RINGPORT_OVS_RATE:-200000}" --go-file "$d/go" \
		>"$d/a.json" 2>"$d/a.err" &
	pa=$!
	rp_on_exit rp_kill_pid $pa
	rp_wait_for 10 "peer sockets" test -S "$d/a.sock" -a -S "$d/b.sock" ||
		rp_fail "peers did not listen"

	# B first, so nothing A sends finds pB down.
	ovs_sb_add_port "$sb" br0 "pB$q" "net_ringport${q}1,path=$d/b.sock" "options:n_rxq=$q" ||
		rp_fail "pB$q not added"
	rp_wait_for 20 "pB$q link up" link_up "pB$q" || { ovs_sb_log_tail "$sb"; rp_fail "pB$q link down"; }
	# pA's traffic starts the moment it is added: install its flow first,
	# naming it by the OpenFlow port number it will ask for.
	ovs_sb_ofctl "$sb" del-flows br0
	ovs_sb_ofctl "$sb" add-flow br0 "in_port=$((100 + q)),actions=output:pB$q"
	ovs_sb_add_port "$sb" br0 "pA$q" "net_ringport${q}0,path=$d/a.sock" "options:n_rxq=$q" \
		"ofport_request=$((100 + q))" || rp_fail "pA$q not added"
	# add-port returns once OVS has wired pA up; before that the datapath
	# polls pA but cannot translate its packets (failed upcalls drop them).
	touch "$d/go"

	wait $pb && b_rc=0 || b_rc=$?
	wait $pa && a_rc=0 || a_rc=$?
	if [ $a_rc -ne 0 ] || [ $b_rc -ne 0 ]; then
		cat "$d/a.json" "$d/a.err" "$d/b.json" "$d/b.err" >&2
		ovs_sb_appctl "$sb" dpctl/show -s >&2 || true
		ovs_sb_log_tail "$sb" 20
		rp_fail "peers not clean (A rc $a_rc, B rc $b_rc)"
	fi
	python3 - "$d/a.json" "$d/b.json" "$N" "$q" <<'PY' || rp_fail "peer reports wrong"
import json, sys
a, b = (json.loads(open(f).readline()) for f in sys.argv[1:3])
n, q = int(sys.argv[3]), int(sys.argv[4])
assert a["sent"] == n and a["clean"], a
assert b["received"] == n and b["clean"], b
assert b["bad_payload"] == 0 and b["bad_order"] == 0 and b["rejects"] == {}, b
assert sum(x["tx"] for x in a["queues"]) == n and len(a["queues"]) == q, a
print(f"  peer A sent {a['sent']} on {q} queue(s); peer B received {b['received']}, all intact and in order")
PY
	# The database's statistics are refreshed every few seconds.
	stat_is() { [ "$(ovs_sb_iface_stat "$sb" "$1" "$2")" = "$3" ]; }
	rp_wait_for 30 "pA$q rx_packets=$N" stat_is "pA$q" rx_packets "$N" ||
		rp_fail "OVS counted rx_packets=$(ovs_sb_iface_stat "$sb" "pA$q" rx_packets) on pA$q, sent $N"
	rp_wait_for 30 "pB$q tx_packets=$N" stat_is "pB$q" tx_packets "$N" ||
		rp_fail "OVS counted tx_packets=$(ovs_sb_iface_stat "$sb" "pB$q" tx_packets) on pB$q, sent $N"
	rx=$N tx=$N
	rp_log "  OVS: pA$q rx_packets=$rx, pB$q tx_packets=$tx"
	link_down() { ! link_up "$1"; }
	rp_wait_for 20 "pA$q link down after its peer left" link_down "pA$q" ||
		rp_fail "pA$q still up with no peer"
	ovs_sb_del_port "$sb" br0 "pA$q"
	ovs_sb_del_port "$sb" br0 "pB$q"
}

run_case 1
run_case 4
kill -0 "$ovs_pid" || rp_fail "ovs-vswitchd died"
echo "PASS: OVS-DPDK forwarded ringport traffic intact, 1 and 4 queue pairs"
