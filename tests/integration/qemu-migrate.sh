#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Live migration of a Linux guest between two QEMUs on one host, each with
# its own ringport-iothread and OVS port on one bridge, while TCP streams
# run both ways between it and a second guest (the procedure is README's
# "Live migration"):
#  1. guest A (QEMU A1, iothread a1, port vma1) and guest B (iothread b,
#     vmb) start RP_MIG_MIB MiB streams to each other (A -> B and B -> A
#     at once, MD5 of every byte printed at both ends);
#  2. while they run, QEMU A2 is started with -incoming (iothread a2 and
#     port vma2 exist first, as an OVN or OpenStack destination would
#     have them), and A1 is told to migrate (HMP migrate over a UNIX
#     socket); the streams are still running when it starts;
#  3. the migration completes, A1 is ended (as libvirt does), and A's
#     traffic follows it: rte_vhost announces the guest's MAC on the new
#     port (RARP), OVS learns it;
#  4. both streams arrive whole: MD5s equal at both ends, the end of A's
#     printed by the migrated guest. The B -> A stream's pages are written
#     by the iothreads (a1 before, a2 after): had a1's writes during the
#     migration not been marked dirty, the destination would hold stale
#     frames, which the migrated guest's TCP counts as InCsumErrors: it
#     must count none;
#  5. iothread a1 let the guest go: no front end, nothing held, no session
#     state left; every drop in the iothreads is counted by reason, and
#     none is of a kind that means a bug (only no_guest, during the cut).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 512
rp_need_ringport_bins
rp_need_iothread_bins
. "$rp_top/tests/lib/qemu-guest.sh"
qg_need
qg_need_gtool
# 24 MiB each way at 1.5 MiB/s: 16 s of streams, which the migration
# (3-8 s here, started as they flow) falls well inside.
MIB=${RP_MIG_MIB:-24} RATE=${RP_MIG_KIBS:-1536}

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0 # NORMAL: MACs are learnt, and learnt again
d=$sb/mig
mkdir -p "$d"
qg_initramfs "$d"
qg_start_iothreads "$d"
"$iot" "${iot_conf[@]}" --vhost "$d/a2-vhost.sock" --port "$d/a2.sock" --queues 1 \
	--poll adaptive >"$d/iothread-a2.log" 2>&1 &
rp_on_exit rp_kill_pid $!
rp_wait_for 20 "iothread a2" test -S "$d/a2.sock.ctl" || { cat "$d/iothread-a2.log" >&2; rp_fail "no a2"; }
for p in "vma1 0 a" "vma2 2 a2" "vmb 1 b"; do
	set -- $p
	ovs_sb_add_port "$sb" br0 "$1" "net_ringport$2,path=$d/$3.sock" options:n_rxq=1 ||
		rp_fail "$1 not added"
done

QG_APPEND=rp_rate=$RATE qg_start_vm "$d" b 10.0.0.2 10.0.0.1 mig-peer 52:54:00:00:00:02 "$MIB"
rp_wait_for 240 "guest B listening" grep -q "RP-GUEST: listening" "$d/b.console" ||
	{ tail -n 20 "$d/b.console" "$d/b.qemu.log" >&2; rp_fail "guest B did not come up"; }
QG_APPEND=rp_rate=$RATE QG_MONITOR=$d/a1.mon qg_start_vm "$d" a 10.0.0.1 10.0.0.2 mig 52:54:00:00:00:01 "$MIB"
a1=$vm_a
rp_log "guests A and B: $MIB MiB TCP streams both ways at $RATE KiB/s"
rp_wait_for 240 "guest A listening" grep -q "RP-GUEST: listening" "$d/a.console" ||
	{ tail -n 20 "$d/a.console" "$d/a.qemu.log" >&2; rp_fail "guest A did not come up"; }

hmp() { # SOCKET COMMAND: one HMP command, its output
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
def until_prompt():
    b = b""
    while not b.endswith(b"(qemu) "):
        b += s.recv(65536)
    return b.decode(errors="replace")
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
# HMP ends lines with CR LF and echoes the command with cursor moves
out = until_prompt().replace("\r", "").replace("(qemu) ", "")
print("\n".join(l for l in out.split("\n") if "\x1b" not in l).strip())
PY
}
# Both streams flowing through vma1: the migration starts while they run.
vma1_rx() { ovs_sb_port_packets "$sb" vma1 RX; }
streams_on() { local n; n=$(vma1_rx) && [ -n "$n" ] && [ "$n" -gt 2000 ]; }
rp_wait_for 60 "the streams to flow" streams_on ||
	{ cat "$d/a.console" "$d/b.console" >&2; rp_fail "the streams did not start"; }
grep -q "RP-GUEST: got-md5" "$d/a.console" "$d/b.console" &&
	rp_fail "a stream ended before the migration began (raise RP_MIG_MIB)"

# The destination, as the source but for its vhost socket and -incoming.
cp "$d/a.console" "$d/a1.console.before"
QG_APPEND=rp_rate=$RATE QG_INCOMING=unix:$d/mig.sock qg_start_vm "$d" a2 10.0.0.1 10.0.0.2 mig 52:54:00:00:00:01 "$MIB"
a2=$vm_a2
rp_wait_for 30 "A2's migration socket" test -S "$d/mig.sock" ||
	{ cat "$d/a2.qemu.log" >&2; rp_fail "QEMU A2 did not listen"; }
t0=$SECONDS
hmp "$d/a1.mon" "migrate -d unix:$d/mig.sock" >"$d/migrate.out"
mig_state() { hmp "$d/a1.mon" "info migrate" | sed -n 's/^Migration status: //p'; }
done_mig() { local st; st=$(mig_state); [ "$st" = completed ] || { [ "$st" = failed ] && return 2; return 1; }; }
rp_wait_for 180 "the migration" done_mig || {
	hmp "$d/a1.mon" "info migrate" >&2
	cat "$d/a2.qemu.log" "$d/a.qemu.log" >&2
	rp_fail "the migration did not complete"
}
rp_log "migration completed in $((SECONDS - t0)) s: $(hmp "$d/a1.mon" "info migrate" | grep -E '^(total time|downtime):' | tr '\n' ' ')"
grep -q "RP-GUEST: got-md5" "$d/a.console" "$d/b.console" &&
	rp_fail "a stream ended before the migration completed (raise RP_MIG_MIB or lower RP_MIG_KIBS)"
# The source is done with the guest (libvirt ends it the same way).
rp_kill_pid "$a1"

# 4. Both streams, whole.
if ! rp_wait_for 300 "guest A (now on A2) to finish" grep -q "RP-GUEST: done" "$d/a2.console" ||
	! rp_wait_for 60 "guest B's MD5" grep -q "RP-GUEST: got-md5" "$d/b.console"; then
	tail -n 8 "$d/a.console" "$d/b.console" >&2
	echo "== a2.console (guest A after the migration):" >&2
	head -c 6000 "$d/a2.console" >&2
	for vm in a a2 b; do "$ctl" --ctl "$d/$vm.sock.ctl" status | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["vhost"]["running"], s["queues"][0])' >&2 || true; done
	rp_fail "the streams did not finish after the migration"
fi
grep -h "RP-GUEST" "$d/a.console" "$d/a2.console" "$d/b.console" | sort -u
md5() { sed -n "s/.*RP-GUEST: $2 \\([0-9a-f]*\\).*/\\1/p" "$1" | head -n 1; }
a_sent=$(md5 "$d/a1.console.before" sent-md5) b_sent=$(md5 "$d/b.console" sent-md5)
a_got=$(md5 "$d/a2.console" got-md5) b_got=$(md5 "$d/b.console" got-md5)
[ -n "$a_sent" ] && [ "$a_sent" = "$b_got" ] || rp_fail "A -> B: B got '$b_got', A sent '$a_sent'"
[ -n "$b_sent" ] && [ "$b_sent" = "$a_got" ] || rp_fail "B -> A: A got '$a_got', B sent '$b_sent'"
csum=$(sed -n 's/.*RP-GUEST: tcp Tcp: //p' "$d/a2.console" | tr -d '\r' | awk '{ print $15 }')
[ "$csum" = 0 ] || rp_fail "the migrated guest counted $csum TCP checksum errors (InCsumErrors)"
# Loss across the cut shows as TCP retransmissions: counted, and bounded
# by the streams finishing.
retrans=$(sed -n 's/.*RP-GUEST: tcp Tcp: //p' "$d/a2.console" | tr -d '\r' | awk '{ print $12 }')
rp_log "both streams whole across the migration ($MIB MiB each way; MD5 $a_got, $b_got); InCsumErrors 0, guest A retransmitted $retrans segments"

# 5. The source iothread let go; drops only where a cut explains them.
for vm in a a2 b; do "$ctl" --ctl "$d/$vm.sock.ctl" status >"$d/s-$vm.json"; done
python3 - "$d" <<'PY' || rp_fail "iothread state after the migration"
import json, sys
d = sys.argv[1]
s = {v: json.load(open(f"{d}/s-{v}.json")) for v in ("a", "a2", "b")}
a1 = s["a"]
assert not a1["vhost"]["connected"] and not a1["vhost"]["running"], a1["vhost"]
for w in a1["workers"]:
    assert not any(w["stages"]["held"].values()), w["stages"]["held"]
assert s["a2"]["vhost"]["running"], s["a2"]["vhost"]
for v, st in s.items():
    q = st["queues"][0]
    for dr in ("to_switch", "to_guest"):
        bad = {k: n for k, n in q[dr]["drops"].items() if n and k != "no_guest"}
        assert not bad, (v, dr, bad)
    print(f"  iothread {v}: to the switch {q['to_switch']['packets']}, to the guest "
          f"{q['to_guest']['packets']}, no_guest drops {q['to_guest']['drops']['no_guest']}")
PY
echo "PASS: a Linux guest migrated between two iothreads with TCP streams both ways intact"
