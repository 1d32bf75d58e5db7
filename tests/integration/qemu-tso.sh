#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# TCP segmentation offload end to end, with real Linux guests: two TCG
# guests (as qemu-e2e) behind iothreads started with --tso, on an OVS-DPDK
# with other_config:userspace-tso-enable=true. Guest A sends 8 MiB of
# random bytes to guest B over one TCP connection. With TSO negotiated, A's
# kernel hands its device 64 KB segments: each crosses the iothread as a
# GSO frame spanning many region buffers (chained mbufs in OVS, a TSO
# request on pB's tx) and reaches B as one GSO frame (GUEST_TSO). The test
# asserts that B got every byte (MD5 of what A sent), that GSO frames went
# both ways through the iothreads, and that nothing was dropped anywhere.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/qemu-guest.sh"
qg_need_vm_test
MIB=${RINGPORT_TSO_MIB:-8}

ovs_sb_start sb --plugin "$pmd" --other-config userspace-tso-enable=true
ovs_sb_add_bridge "$sb" br0
d=$sb/tso
mkdir -p "$d"
qg_initramfs "$d"

qg_start_iothreads "$d" --tso
ovs_sb_add_port "$sb" br0 vma "net_ringport0,path=$d/a.sock" options:n_rxq=1 ||
	rp_fail "vma not added"
ovs_sb_add_port "$sb" br0 vmb "net_ringport1,path=$d/b.sock" options:n_rxq=1 ||
	rp_fail "vmb not added"

# B first, and A once B listens (see qemu-e2e).
qg_start_vm "$d" b 10.0.0.2 10.0.0.1 tcp-recv 52:54:00:00:00:02
if ! rp_wait_for 240 "guest B listening" grep -q "RP-GUEST: listening" "$d/b.console"; then
	tail -n 20 "$d/b.console" "$d/b.qemu.log" >&2
	rp_fail "guest B did not come up"
fi
qg_start_vm "$d" a 10.0.0.1 10.0.0.2 tcp-send 52:54:00:00:00:01 "$MIB"
rp_log "guest B listens on TCP 5001; guest A sends $MIB MiB"
if ! rp_wait_for 300 "guest A to finish sending" grep -q "RP-GUEST: done" "$d/a.console" ||
	! rp_wait_for 60 "guest B's MD5" grep -q "RP-GUEST: got-md5" "$d/b.console"; then
	tail -n 20 "$d/a.console" "$d/b.console" >&2
	for vm in a b; do "$ctl" --ctl "$d/$vm.sock.ctl" status >&2 || true; done
	rp_fail "the transfer did not finish"
fi
grep "RP-GUEST" "$d/a.console" "$d/b.console"
sent=$(sed -n 's/.*RP-GUEST: sent-md5 \([0-9a-f]*\).*/\1/p' "$d/a.console")
got=$(sed -n 's/.*RP-GUEST: got-md5 \([0-9a-f]*\).*/\1/p' "$d/b.console")
[ -n "$sent" ] && [ "$sent" = "$got" ] || rp_fail "guest B got MD5 '$got', guest A sent '$sent'"
rp_log "  $MIB MiB arrived intact (MD5 $got)"

for vm in a b; do "$ctl" --ctl "$d/$vm.sock.ctl" status >"$d/s$vm.json"; done
# The drop counters below come from the database: once it has caught up.
rp_wait_for 30 "OVS's statistics in the database" ovs_sb_stats_fresh "$sb" vma vmb ||
	rp_fail "the database's interface statistics stayed behind"
for p in vma vmb; do
	echo "$p: $(ovs_sb_vsctl "$sb" get Interface $p statistics)" >>"$d/ovs-stats"
done
python3 - "$d" "$MIB" <<'PY' || { cat "$d/ovs-stats" >&2; rp_fail "offload counters wrong"; }
import json, sys
d = sys.argv[1]
a, b = (json.load(open(f"{d}/s{x}.json")) for x in "ab")
for s, name in ((a, "A"), (b, "B")):
    assert s["vhost"]["tso"] or name == "A", (name, s["vhost"])  # A has powered off
    q = s["queues"][0]
    drops = {f"{k}.{r}": v for k in ("to_switch", "to_guest") for r, v in q[k]["drops"].items()
             if not (name == "A" and k == "to_guest" and r == "no_guest")}
    assert not any(drops.values()), (name, drops)
    assert s["port"]["rejects"] == {}, (name, s["port"])
qa, qb = a["queues"][0], b["queues"][0]
# A's kernel sent GSO frames, B's device took them as GSO frames.
assert qa["to_switch"]["gso"] > 0, qa
assert qb["to_guest"]["gso"] > 0, qb
mib = int(sys.argv[2]) << 20
print(f"  iothread A to the switch: {qa['to_switch']['packets']} frames, {qa['to_switch']['gso']} GSO,"
      f" {qa['to_switch']['bytes']} bytes; iothread B to the guest: {qb['to_guest']['packets']}"
      f" frames, {qb['to_guest']['gso']} GSO")
# Every byte crossed, in fewer frames than 1448-byte segments would take.
assert qa["to_switch"]["bytes"] >= mib and qb["to_guest"]["bytes"] >= mib, (qa, qb)
assert qa["to_switch"]["packets"] < mib // 1448, qa
PY
for p in vma vmb; do
	st=$(ovs_sb_vsctl "$sb" get Interface $p statistics)
	for k in rx_dropped tx_dropped rx_errors tx_errors; do
		[[ $st =~ (^|[{ ])$k=0[,}] ]] || rp_fail "OVS $p: $k is not 0: $st"
	done
done
rp_log "  OVS: no drops or errors on vma and vmb"
echo "PASS: $MIB MiB over TCP with TSO through ringport and OVS, intact, in GSO frames both ways"
