#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ringport VM ports as ordinary OVN logical switch ports on two chassis:
#
#   guest 1 - iothread 1 - vm1 [chassis A: ovs-vswitchd-dpdk, ovn-controller]
#                                   br-int =Geneve= br-phy - memif (underlay)
#   guest 2 - iothread 2 - vm2 [chassis B: the same]         |
#                        ovn-northd and the NB/SB databases (central)
#
# Each chassis is an OVS sandbox in a network namespace of its own; the
# underlay is a DPDK memif link between the two br-phy bridges (see
# tests/lib/ovn.sh for why not a veth pair), the tunnel endpoints sit on
# each br-phy (OVS's userspace tunnelling). The logical switch and its ports are
# made with ovn-nbctl, and bound with external_ids:iface-id, as README's
# "Running under OVN" shows. Checked:
#   1. counted: each test guest sends N checked frames to the other across
#      the tunnel; all arrive intact and in order per flow, and every one
#      that does not is counted as dropped where it was (received + drops
#      >= sent, each direction; with CPUs to spare, none is dropped);
#   2. port security: frames with guest 1's source MAC or IP forged (sent
#      in the same run) never reach guest 2, and chassis A's datapath counts
#      them as dropped by the pipeline;
#   3. ACL: a drop rule on guest 1's traffic (ovn-nbctl acl-add) stops it
#      (how long after ovn-nbctl returned is reported), guest 2's traffic
#      keeps flowing, none of guest 1's leaks through once stopped, and
#      removing the rule brings guest 1's traffic back;
#   4. the binding follows the port: vm1 deleted and added again, and
#      iothread 2 restarted, each followed by a counted run as in 1;
#   5. real guests: two QEMU (TCG) Linux guests, one per chassis, on two
#      more logical ports (vm3 on A, vm4 on B): guest 3 resolves guest 4
#      and pings it 10 times across the tunnel, every one answered.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"
. "$rp_top/tests/lib/ovn.sh"
. "$rp_top/tests/lib/qemu-guest.sh"
. "$rp_top/tests/lib/topo.sh"

rp_need_root
rp_need_hugepages 1024
rp_need_ringport_bins
rp_need_iothread_bins
ovn_need
qg_need
N=${RINGPORT_OVN_FRAMES:-4000}
RATE=${RINGPORT_OVN_RATE:-2000}
SPOOF=100
MAC1=02:52:50:00:01:01 IP1=10.0.0.1
MAC2=02:52:50:00:01:02 IP2=10.0.0.2
MAC3=02:52:50:00:01:03 IP3=10.0.0.3
MAC4=02:52:50:00:01:04 IP4=10.0.0.4
# Geneve over IPv4 as OVN sends it takes 58 bytes of the underlay's 1500:
# the guests' MTU is 1442, frames of at most 1456 bytes.
FRAMES=64-1456

ovn_two_chassis 0x2 0x1 || rp_fail "the two-chassis bed did not come up"
rp_log "OVN central, chassis A ($ns_a, 172.31.255.1) and B ($ns_b, 172.31.255.2) up"

# The logical topology: README's "Running under OVN" commands, as they
# stand there (lsp1 and lsp2 with MAC1/IP1 and MAC2/IP2).
ovn_readme_nb "$central" || rp_fail "README's ovn-nbctl commands failed"
for p in "lsp1 $MAC1 $IP1" "lsp2 $MAC2 $IP2"; do
	set -- $p
	[ "$(ovn_nbctl "$central" lsp-get-addresses "$1")" = "$2 $3" ] &&
		[ "$(ovn_nbctl "$central" lsp-get-port-security "$1")" = "$2 $3" ] ||
		rp_fail "README's topology: $1 is not $2 $3 with port security"
done

d=$central/vm
rp_it_dir "$d"
rp_topo_iothread i1 "$d" vm1 --cpus 0 --poll adaptive
rp_topo_iothread i2 "$d" vm2 --cpus 1 --poll adaptive
rp_topo_wait "$d" vm1 vm2
# vm1 as README adds it (its socket path changed), vm2 the same way.
add=$(rp_readme_cmds ovn-port ovs-vsctl "/run/ringport/vm1.sock=$d/vm1.sock") ||
	rp_fail "README.md: the ovs-vsctl add-port command"
eval "ovs_sb_vsctl \"\$cha\" $add" && [ "$(ovs_sb_vsctl "$cha" get Interface vm1 ofport)" -gt 0 ] ||
	{ ovs_sb_log_tail "$cha" 15; rp_fail "README's ovs-vsctl $add: vm1 not added"; }
rp_topo_port "$chb" br-int "$d" vm2 vm2 1 external_ids:iface-id=lsp2
ovn_nbctl "$central" wait-until Logical_Switch_Port lsp1 up=true &&
	ovn_nbctl "$central" wait-until Logical_Switch_Port lsp2 up=true || {
	ovn_chassis_log_tail "$cha"
	ovn_chassis_log_tail "$chb"
	rp_fail "the logical ports did not come up"
}
ovn_nbctl "$central" --wait=hv sync
for p in lsp1 lsp2; do
	ch=$(ovn_sbctl "$central" --bare --columns chassis find Port_Binding logical_port=$p)
	[ -n "$ch" ] || rp_fail "$p is not bound to a chassis"
done
rp_log "lsp1 bound on chassis A (vm1), lsp2 on chassis B (vm2), both up"

ready() { [ "$(rp_ctl_get "$1" 's["link"] == "up" and s["vhost"]["rx_queues"] == 1')" = True ]; }
# grown CTL BEFORE K: the guest behind CTL got K more frames than BEFORE.
grown() { [ "$(rp_it_to_guest "$1")" -ge $(($2 + $3)) ]; }

# guest NAME ARGS...: a test guest on vNAME.sock, output in gNAME.json,
# its reports in gNAME.err (this phase's only).
guest() {
	local n=$1
	shift
	"$vguest" --vhost "$d/vm$n-vhost.sock" --frame-size $FRAMES "$@" >"$d/g$n.json" 2>"$d/g$n.err" &
	eval "g$n=$!"
	rp_on_exit rp_kill_pid $!
}
dump() {
	ovs_sb_log_tail "$cha" 15
	ovs_sb_log_tail "$chb" 15
	ovn_chassis_log_tail "$cha" 15
	ovn_chassis_log_tail "$chb" 15
	tail -n 5 "$d/iothread-vm1.log" "$d/iothread-vm2.log" >&2 || true
	grep -h "rp-vguest:" "$d/g1.err" "$d/g2.err" >&2 || true
	local c sb
	for c in 1 2; do
		echo "iothread $c: $("$ctl" --ctl "$d/vm$c.sock.ctl" status 2>&1)" >&2
	done
	for sb in "$cha" "$chb"; do
		echo "---- $sb: interfaces, drop counters ----" >&2
		ovs_sb_vsctl "$sb" --columns=name,statistics list Interface >&2 || true
		ovs_sb_appctl "$sb" coverage/show | grep -i "drop" >&2 || true
	done
}

# Warm-up: until frames cross both ways (the first wait for the flows
# OVN installs and the tunnel's neighbour entries), not counted.
guest 1 --addr "$MAC1,$IP1" --peer "$MAC2,$IP2" --forever --send 1000000000 --rate 200 \
	--reorder-ok
guest 2 --addr "$MAC2,$IP2" --peer "$MAC1,$IP1" --forever --send 1000000000 --rate 200 \
	--reorder-ok
rp_wait_for 60 "frames 2 -> 1" grown "$d/vm1.sock.ctl" 0 20 &&
	rp_wait_for 60 "frames 1 -> 2" grown "$d/vm2.sock.ctl" 0 20 ||
	{ dump; rp_fail "no traffic across the tunnel"; }
kill -TERM $g1 $g2
wait $g1 || { dump; rp_fail "warm-up: guest 1 not clean: $(cat "$d/g1.json")"; }
wait $g2 || { dump; rp_fail "warm-up: guest 2 not clean: $(cat "$d/g2.json")"; }
rp_log "warm-up: frames cross the Geneve tunnel both ways"

# 1 and 2: N frames each way, with forged frames from guest 1 in the same
# run. Every frame sent is received or counted as dropped where it was
# dropped: received + drops >= sent, per direction, from the counters of
# the iothreads, the ringport ports and the underlay ports (taken before
# and after; the underlay's also count other frames, so not equal). With
# CPUs to spare nothing is dropped; when the machine is loaded, a starved
# PMD thread lets the underlay's ring fill, and OVS counts what its other
# end could not take.
# fresh: both chassis' database statistics (where the drop counters are
# read) show everything that crossed the path's ports.
fresh() { ovs_sb_stats_fresh "$cha" vm1 ul0 && ovs_sb_stats_fresh "$chb" vm2 ul0; }
snap() { # snap FILE: every counter this check reads
	rp_wait_for 30 "the database's statistics caught up" fresh ||
		{ dump; rp_fail "interface statistics in the database stayed behind"; }
	{
		for c in 1 2; do
			echo "\"it$c\": $("$ctl" --ctl "$d/vm$c.sock.ctl" status || echo null),"
		done
		echo "\"a\": $(ovs_sb_vsctl "$cha" -f json --columns=name,statistics list Interface),"
		echo "\"b\": $(ovs_sb_vsctl "$chb" -f json --columns=name,statistics list Interface),"
		echo "\"a_pipeline_drops\": $(drops)"
	} | { echo "{"; cat; echo "}"; } >"$1"
}
drops() { ovs_sb_appctl "$cha" coverage/read-counter drop_action_of_pipeline; }
to_switch() { rp_ctl_get "$1" 'sum(q["to_switch"]["packets"] for q in s["queues"])'; }
# quiet: nothing reached either guest in 3 s (a PMD thread starved by a
# CPU hog can hold frames in the underlay's ring for over a second).
quiet() {
	local a b
	a=$(rp_it_to_guest "$d/vm1.sock.ctl"):$(rp_it_to_guest "$d/vm2.sock.ctl")
	sleep 3
	b=$(rp_it_to_guest "$d/vm1.sock.ctl"):$(rp_it_to_guest "$d/vm2.sock.ctl")
	[ "$a" = "$b" ]
}
# counted_run WHAT N SPOOF: guest 1 sends N frames (and SPOOF forged ones
# first), guest 2 sends N, at RATE; once both have sent everything and the
# path is quiet, the counts are checked as above.
counted_run() {
	local what=$1 n=$2 spoof=$3 s1 s2 g1_rc g2_rc
	sent_all() { [ "$(to_switch "$d/vm1.sock.ctl")" -ge $((s1 + n + spoof)) ] &&
		[ "$(to_switch "$d/vm2.sock.ctl")" -ge $((s2 + n)) ]; }
	snap "$d/before.json"
	rm -f "$d/go"
	guest 1 --addr "$MAC1,$IP1" --peer "$MAC2,$IP2" --send "$n" --rate "$RATE" --forever \
		--flows 29 --spoof "$spoof" --go-file "$d/go"
	guest 2 --addr "$MAC2,$IP2" --peer "$MAC1,$IP1" --send "$n" --rate "$RATE" --forever \
		--flows 31 --go-file "$d/go"
	rp_wait_for 30 "guest 1 ready" ready "$d/vm1.sock.ctl" &&
		rp_wait_for 30 "guest 2 ready" ready "$d/vm2.sock.ctl" || { dump; rp_fail "$what: guests not ready"; }
	s1=$(to_switch "$d/vm1.sock.ctl") s2=$(to_switch "$d/vm2.sock.ctl")
	touch "$d/go"
	rp_wait_for 120 "both guests sent everything" sent_all || { dump; rp_fail "$what: the guests did not send"; }
	rp_wait_for 90 "the path drained" quiet || { dump; rp_fail "$what: frames kept coming"; }
	snap "$d/after.json"
	kill -TERM $g1 $g2
	g1_rc=0 g2_rc=0
	wait $g1 || g1_rc=$?
	wait $g2 || g2_rc=$?
	if [ $g1_rc -ne 0 ] || [ $g2_rc -ne 0 ]; then
		dump
		echo "guest 1: $(cat "$d/g1.json")" >&2
		echo "guest 2: $(cat "$d/g2.json")" >&2
		rp_fail "$what: a guest saw damaged, duplicated, reordered or forged frames (1: rc $g1_rc, 2: rc $g2_rc)"
	fi
	python3 - "$d" "$n" "$spoof" "$what" <<'PY' || { dump; rp_fail "$what: frames unaccounted for"; }
import json, sys
d, n, spoof, what = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
g1, g2 = (json.loads(open(f"{d}/g{i}.json").readline()) for i in (1, 2))
b, a = (json.load(open(f"{d}/{w}.json")) for w in ("before", "after"))

def it_drops(snap, it, direction):
    return sum(sum(q[direction]["drops"].values()) for q in snap[it]["queues"])

def iface(snap, side, name, key):
    t = snap[side]
    col = t["headings"].index("statistics")
    for row in t["data"]:
        if row[t["headings"].index("name")] == name:
            return int(dict(row[col][1]).get(key, 0))
    raise KeyError(name)

delta = lambda f: f(a) - f(b)
RX = ("rx_dropped", "rx_errors", "rx_missed_errors", "rx_mbuf_allocation_errors")
rx = lambda side, name: delta(lambda s: sum(iface(s, side, name, k) for k in RX))
tx = lambda side, name: delta(lambda s: iface(s, side, name, "tx_dropped"))
it = lambda name, direction: delta(lambda s: it_drops(s, name, direction))
# Guest 1 -> guest 2: iothread 1, chassis A's vm1 rx and underlay tx,
# chassis B's underlay rx and vm2 tx, iothread 2; and back.
where12 = {"iothread 1": it("it1", "to_switch"), "A vm1 rx": rx("a", "vm1"),
           "A ul0 tx": tx("a", "ul0"), "B ul0 rx": rx("b", "ul0"), "B vm2 tx": tx("b", "vm2"),
           "iothread 2": it("it2", "to_guest")}
where21 = {"iothread 2": it("it2", "to_switch"), "B vm2 rx": rx("b", "vm2"),
           "B ul0 tx": tx("b", "ul0"), "A ul0 rx": rx("a", "ul0"), "A vm1 tx": tx("a", "vm1"),
           "iothread 1": it("it1", "to_guest")}
lost12, lost21 = sum(where12.values()), sum(where21.values())
pipeline = a["a_pipeline_drops"] - b["a_pipeline_drops"]
assert g1["sent"] == n + spoof and g1["spoof_sent"] == spoof and g2["sent"] == n, (g1, g2)
assert g2["spoofed"] == 0, g2
assert pipeline >= spoof, f"chassis A counted {pipeline} pipeline drops, want >= {spoof}"
# The underlay's counters also count what else crossed it (ARP, the
# kernel's IPv6 chatter from the br-phy interfaces): at least, not equal.
assert g2["received"] <= n and g2["received"] + lost12 >= n, \
    f"1 -> 2: {g2['received']} received, drops {where12}: some of {n} lost uncounted"
assert g1["received"] <= n and g1["received"] + lost21 >= n, \
    f"2 -> 1: {g1['received']} received, drops {where21}: some of {n} lost uncounted"
nz = lambda w: ", ".join(f"{k} {v}" for k, v in w.items() if v) or "none"
print(f"  {what}: {n} frames each way across the tunnel, intact and in order: "
      f"1 -> 2 {g2['received']} received, drops counted on the path: {nz(where12)}; "
      f"2 -> 1 {g1['received']} received, drops: {nz(where21)}; "
      + (f"{spoof} forged frames from guest 1: none delivered, {pipeline} pipeline drops on chassis A"
         if spoof else "no forged frames this time"))
PY
}
counted_run counted "$N" "$SPOOF"

# 3: an ACL drops guest 1's UDP; guest 2's keeps flowing; removed, back.
guest 1 --addr "$MAC1,$IP1" --peer "$MAC2,$IP2" --forever --send 1000000000 --rate "$RATE" \
	--flows 29
guest 2 --addr "$MAC2,$IP2" --peer "$MAC1,$IP1" --forever --send 1000000000 --rate "$RATE" \
	--flows 31
rp_wait_for 30 "frames 1 -> 2" grown "$d/vm2.sock.ctl" "$(rp_it_to_guest "$d/vm2.sock.ctl")" 200 ||
	{ dump; rp_fail "ACL run: no traffic"; }
t0=$(date +%s.%N)
ovn_nbctl "$central" --wait=hv acl-add ls0 from-lport 1001 'inport == "lsp1" && udp' drop
t1=$(date +%s.%N)
# --wait=hv returns once both ovn-controllers have put the ACL in their
# OpenFlow tables; the datapath's cached flows follow when OVS's
# revalidators run, and frames already past chassis A still arrive, so
# when the last frame gets through depends on the scheduler, not on
# ringport: it is reported, not bounded tightly. Stopped means, judged by
# progress rather than by the clock: guest 2 got nothing for 2 s while
# guest 1 gave its iothread $ACL_Q more frames and guest 2's kept reaching
# guest 1 (both chassis' PMDs ran). Then, with guest 1 sending $ACL_Q more,
# not one of them reaches guest 2. Within 60 s.
ACL_Q=2000
python3 - "$ctl" "$d/vm1.sock.ctl" "$d/vm2.sock.ctl" "$t1" "$ACL_Q" >"$d/acl.txt" 2>&1 <<'PY' ||
import json, subprocess, sys, time
ctl, s1, s2, t1, q = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
def count(sock, direction):
    out = subprocess.run([ctl, "--ctl", sock, "status"], capture_output=True, check=True).stdout
    return sum(x[direction]["packets"] for x in json.loads(out)["queues"])
def snap():
    return (time.time(), count(s2, "to_guest"), count(s1, "to_switch"), count(s1, "to_guest"))
def quiet(base, want_s):
    """Poll until guest 2 got nothing for want_s while guest 1 sent q frames
    and guest 1 got 100 of guest 2's; True, or False at once when guest 2
    gets a frame, with base moved to that time."""
    while time.time() < t1 + 60:
        time.sleep(0.05)
        now = snap()
        if now[1] != base[1]:
            return False, now
        if now[0] - base[0] >= want_s and now[2] - base[2] >= q and now[3] - base[3] >= 100:
            return True, base
    now = snap()
    sys.exit(f"no end to guest 1's frames {now[0] - t1:.1f} s after acl-add: the last reached "
             f"guest 2 {base[0] - t1:.2f} s after it; since then guest 1 sent {now[2] - base[2]} "
             f"and got {now[3] - base[3]} (want {q} and 100)")
last = snap()
while True:
    ok, last = quiet(last, 2)
    if ok:
        break
stop = last
ok, last = quiet(snap(), 0)
if not ok:
    sys.exit(f"guest 1's frames leak through the ACL: guest 2 got {last[1] - stop[1]} more "
             f"{last[0] - t1:.2f} s after acl-add, after none for 2 s")
print(f"{stop[0] - t1:.2f} {last[2] - stop[2]}")
PY
	{ dump; rp_fail "the ACL: $(tail -n 1 "$d/acl.txt")"; }
b=$(rp_it_to_guest "$d/vm2.sock.ctl")
ovn_nbctl "$central" --wait=hv acl-del ls0 from-lport 1001 'inport == "lsp1" && udp'
rp_wait_for 30 "frames 1 -> 2 after the ACL" grown "$d/vm2.sock.ctl" "$b" 200 ||
	{ dump; rp_fail "guest 1's frames did not come back without the ACL"; }
kill -TERM $g1 $g2
wait $g1 || { dump; rp_fail "ACL run: guest 1 not clean: $(cat "$d/g1.json")"; }
wait $g2 || { dump; rp_fail "ACL run: guest 2 not clean: $(cat "$d/g2.json")"; }
python3 - "$t0" "$t1" $(cat "$d/acl.txt") <<'PY'
import sys
t0, t1, t2, held = map(float, sys.argv[1:])
print(f"  ACL: acl-add --wait=hv took {t1 - t0:.2f} s; guest 1's last frame reached guest 2 "
      f"{t2:.2f} s after it, none of the {held:.0f} it sent once stopped; guest 2's kept "
      "flowing; acl-del brought them back; both guests clean (gaps only)")
PY
# 4: the binding follows the port. vm1 deleted (lsp1 goes down) and added
# again (up), then iothread 2 restarted (its port reconnects): each time a
# counted run as in 1, after one that ended before the cut.
ovs_sb_vsctl "$cha" del-port br-int vm1
ovn_nbctl "$central" wait-until Logical_Switch_Port lsp1 up=false ||
	{ dump; rp_fail "lsp1 still up without its port"; }
rp_topo_port "$cha" br-int "$d" vm1 vm1 0 external_ids:iface-id=lsp1
ovn_nbctl "$central" wait-until Logical_Switch_Port lsp1 up=true &&
	ovn_nbctl "$central" --wait=hv sync || { dump; rp_fail "lsp1 not up again"; }
counted_run "vm1 deleted and added again" $((N / 2)) 0
kill -TERM $i2
wait $i2 || rp_fail "iothread 2 did not exit cleanly on SIGTERM"
rp_topo_iothread i2 "$d" vm2 --cpus 1 --poll adaptive
session() { [ "$(rp_ctl_get "$1" 's["port"]["session"]')" = True ]; }
rp_wait_for 30 "vm2 reconnected to iothread 2" session "$d/vm2.sock.ctl" ||
	{ tail -n 5 "$d/iothread-vm2.log" >&2; rp_fail "iothread 2 did not start again, or vm2 did not reconnect"; }
counted_run "iothread 2 restarted" $((N / 2)) 0

# 5: real guests. Two more logical ports, a ringport port for each on
# its own chassis, a QEMU guest behind each (tests/lib/qemu-guest.sh:
# iothreads and guests "a" and "b" in $q).
ovn_nbctl "$central" lsp-add ls0 lsp3 -- lsp-set-addresses lsp3 "$MAC3 $IP3" \
	-- lsp-set-port-security lsp3 "$MAC3 $IP3"
ovn_nbctl "$central" lsp-add ls0 lsp4 -- lsp-set-addresses lsp4 "$MAC4 $IP4" \
	-- lsp-set-port-security lsp4 "$MAC4 $IP4"
q=$central/qemu
mkdir -p "$q"
qg_initramfs "$q"
qg_start_iothreads "$q"
rp_topo_port "$cha" br-int "$q" a vm3 2 external_ids:iface-id=lsp3
rp_topo_port "$chb" br-int "$q" b vm4 3 external_ids:iface-id=lsp4
ovn_nbctl "$central" wait-until Logical_Switch_Port lsp3 up=true &&
	ovn_nbctl "$central" wait-until Logical_Switch_Port lsp4 up=true &&
	ovn_nbctl "$central" --wait=hv sync || { dump; rp_fail "lsp3 and lsp4 not up"; }
qg_start_vm "$q" b "$IP4" "$IP3" pong "$MAC4"
rp_wait_for 240 "guest 4's eth0 up" grep -q "RP-GUEST: eth0 up" "$q/b.console" ||
	{ tail -n 20 "$q/b.console" "$q/b.qemu.log" >&2; rp_fail "guest 4 did not bring eth0 up"; }
qg_start_vm "$q" a "$IP3" "$IP4" ping "$MAC3" 10
rp_wait_for 240 "guest 3 to finish pinging" grep -q "RP-GUEST: done" "$q/a.console" || {
	tail -n 20 "$q/a.console" "$q/b.console" >&2
	dump
	rp_fail "guest 3 did not finish"
}
grep "RP-GUEST" "$q/a.console"
line=$(grep "RP-GUEST: .*packets transmitted" "$q/a.console" || true)
[[ $line =~ 10\ packets\ transmitted,\ 10\ packets\ received ]] ||
	{ dump; rp_fail "guest 3: $line (want 10 of 10 replies across the tunnel)"; }
grep -q "RP-GUEST: arp $IP4 dev eth0 lladdr $MAC4" "$q/a.console" ||
	rp_fail "guest 3 did not resolve $IP4 to guest 4's MAC"
rp_log "QEMU guests on chassis A and B: 10 of 10 pings answered across the tunnel"
echo "PASS: ringport ports as OVN logical switch ports across two chassis (Geneve)"
