#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock OVS-DPDK loads librte_net_ringport.so (EAL -d). Two rp-peer servers
# play the VM side of two ports:
#   peer A -> port pA -> flow -> port pB -> peer B
# Every frame must arrive intact (CRC) and in order per sending queue, with
# exact counts at the peers and in OVS: plain forwarding on 1 and 4 queue
# pairs (on 4, frames that do not start at their buffer's start), a drop
# flow (B gets nothing, A gets every buffer back), and an in-place edit
# (mod_dl_dst, checked on every frame at B).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 512
rp_need_ringport_bins
N=${RINGPORT_OVS_FRAMES:-200000}

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
ovs_pid=$(ovs_sb_pid "$sb")

# Shared memory in ovs-vswitchd while pA and pB have sessions: EAL's own
# segments and the two ringport regions, nothing else (no guest memory ever
# reaches the switch).
check_maps() {
	local foreign nreg
	foreign=$(awk '$6 ~ /^\/(memfd:|dev\/hugepages|dev\/shm|run\/)/ &&
		$6 !~ /^\/memfd:seg_/ && $6 != "/memfd:ringport-region" && $6 !~ /\.so$/ {print $6}' \
		"/proc/$ovs_pid/maps" | sort -u)
	[ -z "$foreign" ] || rp_fail "ovs-vswitchd maps shared memory that is not EAL's or a region: $foreign"
	nreg=$(grep -c 'memfd:ringport-region' "/proc/$ovs_pid/maps" || true)
	[ "$nreg" -eq 2 ] || rp_fail "ovs-vswitchd maps $nreg ringport regions with pA and pB up, expected 2"
	rp_log "  OVS maps: EAL memory and $nreg ringport regions, nothing else shared"
}

# Sum of pB's per-queue ring_full drops (the PMD's own count).
pb_ring_full() {
	ovs_sb_vsctl "$sb" get Interface pB statistics | tr -d '{} ' | tr ',' '\n' |
		awk -F= '$1 ~ /^tx_q[0-9]+_ring_full_dropped$/ { s += $2 } END { print s + 0 }'
}
pb_accounted() { # N: pB sent + dropped = N
	local tx drop
	tx=$(ovs_sb_iface_stat "$sb" pB tx_packets) && drop=$(ovs_sb_iface_stat "$sb" pB tx_dropped) &&
		[ $((tx + drop)) -eq "$1" ]
}

# With a receiver that stalls, OVS may drop at pB (it cannot push back on
# pA's sender), and the design allows it. What must hold: every frame A
# sent reached OVS; each one either left pB and reached B intact and in
# order, or was dropped at pB and counted there; nothing else is missing.
# DIR/ovs-counts: pA rx_packets, pB tx_packets, tx_dropped, ring_full drops.
lossy_accounting() { # DIR N
	local d=$1 n=$2
	# shellcheck disable=SC2046 # four numbers
	python3 - "$d/a.json" "$d/b.json" "$n" $(cat "$d/ovs-counts") <<'PY' || rp_fail "frames unaccounted for"
import json, sys
a, b = (json.loads(open(f).readline()) for f in sys.argv[1:3])
n, rx_a, tx, drop, rf = map(int, sys.argv[3:8])
assert a["sent"] == n and a["clean"], ("A", a)
assert rx_a == n, f"OVS received {rx_a} of the {n} frames A sent on pA"
assert tx + drop == n, f"pB: tx_packets {tx} + tx_dropped {drop} != {n} sent"
assert rf == drop, f"pB: the PMD counted {rf} ring_full drops, OVS {drop} tx_dropped"
assert b["clean"] and b["rejects"] == {}, ("B", b)
assert b["bad_payload"] == 0 and b["bad_order"] == 0, ("B: corrupt or reordered", b)
assert b["received"] == tx, f"B received {b['received']}, pB sent {tx}"
assert b["received"] + drop == n, f"B received {b['received']} + {drop} dropped != {n}"
assert b["lost"] <= drop, f"B saw {b['lost']} frames missing, pB dropped only {drop}"
print(f"  {n} sent = {b['received']} received intact and in order + {drop} dropped at pB "
      f"(counted as ring_full; {b['lost']} of them seen as gaps by B)")
PY
}

# run_case QUEUES NAME ACTIONS B_EXPECTS [rp-peer options for B...]
run_case() {
	local q=$1 name=$2 actions=$3 want=$4 a b pa pb rx tx
	shift 4
	local d=$sb/$name
	local k=$((next_id++))
	mkdir -p "$d"
	rp_log "$name: $q queue pair(s), $N frames A -> OVS ($actions) -> B"
	# Nothing in the path pushes back on the sender: like a NIC, OVS drops
	# what a slow receiver cannot take. For exact counts A is paced and B
	# buffers generously (CI shares 2 cores between OVS, A and B).
	# A stalled B may lose frames (counted by pB): it serves until pB
	# leaves and counts gaps in each sequence as "lost".
	# B expecting nothing would be done the moment its session is up:
	# it serves until pB leaves instead.
	local b_end=(--expect "$want") b_linger=
	[ "$want" -eq 0 ] && b_end=(--expect 0 --linger) b_linger=1
	[ -n "${stall_b:-}" ] && b_end=(--lossy --linger)
	"$peer" --role server --path "$d/b.sock" --queues "$q" "${b_end[@]}" --timeout 120 \
		--ring-size 8192 --bufs 16384 "$@" \
		>"$d/b.json" 2>"$d/b.err" &
	pb=$!
	rp_on_exit rp_kill_pid $pb
	"$peer" --role server --path "$d/a.sock" --queues "$q" --send "$N" --timeout 120 ${a_extra:-} \
		--rate "${RINGPORT_OVS_RATE:-200000}" --go-file "$d/go" \
		>"$d/a.json" 2>"$d/a.err" &
	pa=$!
	rp_on_exit rp_kill_pid $pa
	rp_wait_for 10 "peer sockets" test -S "$d/a.sock" -a -S "$d/b.sock" ||
		rp_fail "peers did not listen"

	# B first, so nothing A sends finds pB down.
	# shellcheck disable=SC2086 # port_cols: extra Interface columns
	ovs_sb_add_port "$sb" br0 pB "net_ringport${k}1,path=$d/b.sock" "options:n_rxq=$q" ${port_cols:-} ||
		rp_fail "pB not added"
	rp_wait_for 20 "pB link up" ovs_sb_link_up "$sb" pB || { ovs_sb_log_tail "$sb"; cat "$d/b.err" >&2; rp_fail "pB link down"; }
	# pA's traffic starts the moment it is added: install its flow first,
	# naming it by the OpenFlow port number it will ask for.
	ovs_sb_ofctl "$sb" del-flows br0
	ovs_sb_ofctl "$sb" add-flow br0 "in_port=100,actions=$actions"
	# shellcheck disable=SC2086
	ovs_sb_add_port "$sb" br0 pA "net_ringport${k}0,path=$d/a.sock" "options:n_rxq=$q" \
		ofport_request=100 ${port_cols:-} || rp_fail "pA not added"
	# add-port returns once OVS has wired pA up; before that the datapath
	# polls pA but cannot translate its packets (failed upcalls drop them).
	touch "$d/go"
	[ "$name" = fwd-1q ] && check_maps
	local staller=
	if [ -n "${stall_b:-}" ]; then
		# Load, not synchronisation: B freezes for 30 ms every 150 ms,
		# as a guest's vCPU or an iothread preempted on a busy host.
		(while kill -STOP $pb 2>/dev/null; do
			sleep 0.03; kill -CONT $pb 2>/dev/null; sleep 0.12
		done) &
		staller=$!
		rp_on_exit rp_kill_pid $staller
	fi

	wait $pa && a_rc=0 || a_rc=$?
	if [ -n "$staller" ]; then
		rp_kill_pid $staller
		kill -CONT $pb 2>/dev/null || true
		# Every frame A sent either left pB or was dropped there, and
		# counted: then B has all it will get, and pB may go.
		rp_wait_for 30 "pA rx_packets=$N" ovs_sb_stat_is "$sb" pA rx_packets "$N" || true
		rp_wait_for 60 "pB tx_packets + tx_dropped = $N" pb_accounted "$N" || true
		echo "$(ovs_sb_iface_stat "$sb" pA rx_packets) $(ovs_sb_iface_stat "$sb" pB tx_packets)" \
			"$(ovs_sb_iface_stat "$sb" pB tx_dropped) $(pb_ring_full)" >"$d/ovs-counts"
		ovs_sb_del_port "$sb" br0 pB
	elif [ -n "$b_linger" ]; then
		# All of A's frames reached OVS and none left by pB: B may go.
		rp_wait_for 30 "pA rx_packets=$N" ovs_sb_stat_is "$sb" pA rx_packets "$N" ||
			rp_fail "OVS counted rx_packets=$(ovs_sb_iface_stat "$sb" pA rx_packets) on pA, sent $N"
		ovs_sb_stat_is "$sb" pB tx_packets "$want" ||
			rp_fail "OVS counted tx_packets=$(ovs_sb_iface_stat "$sb" pB tx_packets) on pB, want $want"
		ovs_sb_del_port "$sb" br0 pB
	fi
	wait $pb && b_rc=0 || b_rc=$?
	if [ $a_rc -ne 0 ] || [ $b_rc -ne 0 ]; then
		# CI shows the end of the output: the essentials go last.
		ovs_sb_log_tail "$sb" 20
		ovs_sb_appctl "$sb" dpctl/show -s >&2 || true
		cat "$d/a.err" "$d/b.err" >&2
		for p in pA pB; do
			echo "$p: $(ovs_sb_vsctl "$sb" get Interface $p statistics)" >&2
		done
		echo "A: $(cat "$d/a.json")" >&2
		echo "B: $(cat "$d/b.json")" >&2
		rp_fail "$name: peers not clean (A rc $a_rc, B rc $b_rc)"
	fi
	if [ -n "${stall_b:-}" ]; then
		lossy_accounting "$d" "$N"
		ovs_sb_del_port "$sb" br0 pA
		return 0
	fi
	python3 - "$d/a.json" "$d/b.json" "$N" "$q" "$want" "$name" <<'PY' || rp_fail "peer reports wrong"
import json, sys
a, b = (json.loads(open(f).readline()) for f in sys.argv[1:3])
n, q, want = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if sys.argv[6] == "jumbo":  # most frames spanned several 2 KB buffers
    assert b["rx_bytes"] > n * 2048, b
assert a["sent"] == n and a["clean"], a          # clean: every buffer came home
assert b["received"] == want and b["clean"], b
assert b["bad_payload"] == 0 and b["bad_order"] == 0 and b["bad_dst"] == 0, b
assert b["rejects"] == {} and a["rejects"] == {}, (a, b)
assert sum(x["tx"] for x in a["queues"]) == n and len(a["queues"]) == q, a
if want and sys.argv[6] != "jumbo":
    # The PMD starts each frame (buffer index mod 7) cache lines into its
    # buffer (rp_ipc_color()): not all a power of two apart.
    assert b["rx_start_lines"] == list(range(7)), f"frames from pB started at lines {b['rx_start_lines']}"
print(f"  peer A sent {a['sent']} on {q} queue(s), all buffers back; "
      f"peer B received {b['received']}, all intact and in order,"
      f" starting at cache lines {b.get('rx_start_lines')} of their buffers")
PY
	rp_wait_for 30 "pA rx_packets=$N" ovs_sb_stat_is "$sb" pA rx_packets "$N" ||
		rp_fail "OVS counted rx_packets=$(ovs_sb_iface_stat "$sb" pA rx_packets) on pA, sent $N"
	[ -n "$b_linger" ] || rp_wait_for 30 "pB tx_packets=$want" ovs_sb_stat_is "$sb" pB tx_packets "$want" ||
		rp_fail "OVS counted tx_packets=$(ovs_sb_iface_stat "$sb" pB tx_packets) on pB, want $want"
	rp_log "  OVS: pA rx_packets=$N, pB tx_packets=$want"
	link_down() { ! ovs_sb_link_up "$sb" "$1"; }
	rp_wait_for 20 "pA link down after its peer left" link_down pA ||
		rp_fail "pA still up with no peer"
	[ -n "${run_case_keep:-}" ] && return 0
	ovs_sb_del_port "$sb" br0 pA
	[ -n "$b_linger" ] || ovs_sb_del_port "$sb" br0 pB
}

next_id=0
run_case 1 fwd-1q output:pB "$N"
# On 4 queue pairs A starts its frames up to 5 cache lines into their
# buffers (rp-peer --spread, as ovs-port-bench can): OVS takes them as well.
a_extra="--spread 6" run_case 4 fwd-4q output:pB "$N"
run_case 4 drop drop 0
run_case 2 mod-dl-dst mod_dl_dst:02:00:00:00:00:99,output:pB "$N" --expect-dst 02:00:00:00:00:99
# Jumbo frames (60..9018 bytes) span up to five region buffers each way:
# pA hands each to OVS as one mbuf, pB splits it again.
a_extra="--frame-max 9018" port_cols="mtu_request=9000" \
	run_case 2 jumbo output:pB "$N"
# A receiver that stalls now and then: its rings hold most of the backlog;
# what pB cannot take is dropped and counted (OVS cannot push back on A),
# and every frame is accounted for. Its buffer returns all get through.
RINGPORT_OVS_RATE=100000 stall_b=1 run_case 1 stalled-receiver output:pB "$N"

# The happy path leaves no ERR or EMER line in OVS's log.
if grep -E '\|(ERR|EMER)\|' "$sb/ovs-vswitchd.log" >&2; then
	rp_fail "OVS logged errors on the happy path"
fi
rp_log "  OVS log: no ERR or EMER lines"

# A hostile peer: invalid descriptors of six kinds ahead of the valid
# frames (range, foreign, len, flags; dup: one buffer twice in a frame;
# random: 16 random bytes). The PMD must drop and count each (xstats OVS
# shows), give the dup buffers back, and pass every valid frame untouched.
hostile=6000
a_extra="--hostile $hostile" run_case_keep=1 run_case 2 hostile output:pB "$N"
rejected() {
	ovs_sb_vsctl "$sb" get Interface pA statistics | tr -d '{}' | tr ',' '\n' |
		awk -F= '$1 ~ /rejected_desc_/ { s += $2 } END { print s + 0 }'
}
rejected_is() { [ "$(rejected)" = "$1" ]; }
rp_wait_for 30 "pA rejected descriptors=$hostile" rejected_is "$hostile" ||
	rp_fail "pA rejected $(rejected) descriptors in all, want $hostile"
for kind in range foreign len flags dup; do
	n=$(ovs_sb_iface_stat "$sb" pA "rejected_desc_${kind}_errors")
	[ "$n" -ge $((hostile / 6)) ] ||
		rp_fail "pA rejected_desc_${kind}_errors=$n, want at least $((hostile / 6))"
done
rp_log "  OVS: pA counted $hostile rejected descriptors, each kind at least $((hostile / 6)) times"
ovs_sb_del_port "$sb" br0 pA
ovs_sb_del_port "$sb" br0 pB

# A clearly broken peer: it rewrites the mask of a shared ring (which would
# steer rte_ring out of bounds). The PMD must end the session, not crash.
rp_log "broken peer: ring metadata corrupted after 1000 frames"
d=$sb/broken
mkdir -p "$d"
"$peer" --role server --path "$d/a.sock" --send 1000 --corrupt-ring --timeout 60 \
	>"$d/a.json" 2>"$d/a.err" &
pa=$!
rp_on_exit rp_kill_pid $pa
rp_wait_for 10 "peer socket" test -S "$d/a.sock" || rp_fail "peer did not listen"
ovs_sb_ofctl "$sb" del-flows br0
ovs_sb_ofctl "$sb" add-flow br0 "in_port=100,actions=drop"
ovs_sb_add_port "$sb" br0 pA "net_ringport90,path=$d/a.sock" ofport_request=100 ||
	rp_fail "pA not added"
wait $pa || true
python3 - "$d/a.json" <<'PY' || rp_fail "the PMD did not end the broken session"
import json, sys
a = json.loads(open(sys.argv[1]).readline())
assert a["end"] == "peer-left" and a["sent"] == 1000, a
print("  the PMD ended the session with the broken peer")
PY
rp_wait_for 30 "pA rejected_ring_corrupt_errors counted" \
	bash -c "[ \"\$(ovs-vsctl --db=unix:$sb/db.sock get Interface pA statistics:rejected_ring_corrupt_errors)\" -ge 1 ]" ||
	rp_fail "no ring corruption counted on pA"
kill -0 "$(ovs_sb_pid "$sb")" || rp_fail "ovs-vswitchd died"
ovs_sb_del_port "$sb" br0 pA
kill -0 "$ovs_pid" || rp_fail "ovs-vswitchd died"
# A garbage handshake: a server that answers every connection with 128
# bytes that are not a ringport message (the same each time, so the PMD has
# one reason to log). The PMD must refuse each session (link stays down),
# keep retrying from its alarm, log the refusal once, and OVS stay up.
rp_log "garbage handshake"
d=$sb/garbage
mkdir -p "$d"
python3 - "$d/g.sock" "$d/conns" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(8)
n = 0
while True:
    c, _ = s.accept()
    n += 1
    try:
        c.send(b"\xa5" * 128)      # where the server's HELLO belongs
        c.settimeout(2)
        while c.recv(4096):        # the PMD's HELLO, DISCONNECT, EOF
            pass
    except OSError:
        pass
    c.close()
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(n))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
gpid=$!
rp_on_exit rp_kill_pid $gpid
rp_wait_for 10 "garbage server" test -S "$d/g.sock" || rp_fail "garbage server did not start"
ovs_sb_add_port "$sb" br0 pG "net_ringport91,path=$d/g.sock" || rp_fail "pG not added"
conns_above() { [ "$(cat "$d/conns" 2>/dev/null || echo 0)" -ge "$1" ]; }
rp_wait_for 20 "5 refused handshakes" conns_above 5 || rp_fail "the PMD did not retry"
[ "$(ovs_sb_vsctl "$sb" get Interface pG link_state)" = down ] || rp_fail "pG up on garbage"
[ "$(grep -c "net_ringport91.*refused" "$sb/ovs-vswitchd.log")" -eq 1 ] ||
	rp_fail "the refusal was not logged exactly once (it is retried every 100 ms)"
kill -0 "$ovs_pid" || rp_fail "ovs-vswitchd died"
ovs_sb_del_port "$sb" br0 pG
rp_kill_pid $gpid
rp_log "  $(cat "$d/conns") handshakes refused, link down, OVS up"
echo "PASS: OVS-DPDK forwarded, dropped and rewrote ringport traffic with nothing lost or corrupted"
