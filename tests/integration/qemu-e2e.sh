#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two real Linux guests (QEMU 7.2, TCG, Debian's kernel, a busybox
# initramfs built here) on one OVS bridge, each behind its own
# ringport-iothread. Guest A ARP-resolves and pings guest B through
# ringport; the test asserts what guest A reports on its console.
# The QEMU, iothread and OVS lines are the ones README.md documents.
#
# RP_QEMU_VIOMMU=1 (meson test qemu-viommu): guest A has a vIOMMU (q35,
# intel-iommu with device IOTLB, virtio-net iommu_platform=on,ats=on behind
# a PCIe root port, intel_iommu=on in the guest) and pings 10 times, every
# one answered; its iothread must have negotiated VIRTIO_F_IOMMU_PLATFORM,
# translated through the IOTLB in both directions (misses counted per queue
# in status), and taken the guest's whole-space invalidations (Linux's lazy
# unmapping flushes them; QEMU 7.2 sends them with size 0, which rte_vhost
# alone ignores: the replies were then written to pages the guest had
# taken back, and 0 to 6 of 10 came through). B's iothread translates
# nothing.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/qemu-guest.sh"
qg_need_vm_test

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0 # its default flow is NORMAL: ARP floods, MACs are learnt
d=$sb/qemu
mkdir -p "$d"

qg_initramfs "$d"

qg_start_iothreads "$d"
ovs_sb_vsctl "$sb" add-port br0 vma -- set Interface vma type=dpdk \
	"options:dpdk-devargs=net_ringport0,path=$d/a.sock" options:n_rxq=1 \
	options:dpdk-lsc-interrupt=true || rp_fail "vma not added"
ovs_sb_vsctl "$sb" add-port br0 vmb -- set Interface vmb type=dpdk \
	"options:dpdk-devargs=net_ringport1,path=$d/b.sock" options:n_rxq=1 \
	options:dpdk-lsc-interrupt=true || rp_fail "vmb not added"

# B first, and A only once B's driver is up: a frame for B before then
# (A's own boot traffic) could only be dropped as no_guest, and the test
# asserts that B drops nothing.
qg_start_vm "$d" b 10.0.0.2 10.0.0.1 pong 52:54:00:00:00:02
rp_log "TCG guest B booting (Debian kernel, busybox initramfs)"
if ! rp_wait_for 240 "guest B's eth0 up" grep -q "RP-GUEST: eth0 up" "$d/b.console"; then
	tail -n 20 "$d/b.console" "$d/b.qemu.log" >&2
	rp_fail "guest B did not bring eth0 up"
fi
viommu=${RP_QEMU_VIOMMU:-0} pings=3
if [ "$viommu" = 1 ]; then
	pings=10
	QG_VIOMMU=1 QG_APPEND=rp_hold=1 qg_start_vm "$d" a 10.0.0.1 10.0.0.2 ping 52:54:00:00:00:01 $pings
else
	qg_start_vm "$d" a 10.0.0.1 10.0.0.2 ping 52:54:00:00:00:01
fi
rp_log "guest B is up; TCG guest A booting"
if ! rp_wait_for 240 "guest A to finish pinging" grep -q "RP-GUEST: done" "$d/a.console"; then
	tail -n 20 "$d/a.console" "$d/b.console" "$d/a.qemu.log" >&2
	"$ctl" --ctl "$d/a.sock.ctl" status >&2 || true
	rp_fail "guest A did not finish"
fi
grep "RP-GUEST" "$d/a.console"
line=$(grep "RP-GUEST: .*packets transmitted" "$d/a.console" || true)
[[ $line =~ $pings\ packets\ transmitted,\ $pings\ packets\ received ]] ||
	rp_fail "guest A: $line (want $pings of $pings replies)"
grep -q "RP-GUEST: arp 10.0.0.2 dev eth0 lladdr 52:54:00:00:00:02" "$d/a.console" ||
	rp_fail "guest A did not resolve 10.0.0.2 to guest B's MAC"
for vm in a b; do
	"$ctl" --ctl "$d/$vm.sock.ctl" status | python3 -c '
import json, sys
s = json.load(sys.stdin)
q = s["queues"][0]
viommu = sys.argv[2] == "1" and sys.argv[1] == "a"
assert s["vhost"]["running"] or sys.argv[1] == "a", s["vhost"]
if sys.argv[2] == "1":
    # the vIOMMU guest (held up): addresses translated through the IOTLB
    # both ways, the misses counted; the other guest has no IOMMU
    assert s["vhost"]["iommu"] == viommu, (sys.argv[1], s["vhost"])
    wide, unmaps = s["vhost"]["iotlb_whole_invalidations"], s["vhost"]["iotlb_ring_unmaps"]
    assert (wide > 0) == viommu, (sys.argv[1], s["vhost"])
    print(f"  iothread {sys.argv[1]}: {wide} whole-space invalidations, rings unmapped {unmaps} times")
    for dr in ("to_switch", "to_guest"):
        m, h = q[dr]["iotlb_misses"], q[dr]["iotlb_hits"]
        assert (m > 0 and h > 0) if viommu else (m == 0 and h == 0), (sys.argv[1], dr, m, h)
        print(f"  iothread {sys.argv[1]} {dr}: iotlb hits {h}, misses {m}")
assert q["to_switch"]["packets"] >= 4 and q["to_guest"]["packets"] >= 4, q
# Guest A powers off when done: what B still sends it then is no_guest.
drops = dict(q["to_switch"]["drops"], **{"to_guest_" + k: v for k, v in q["to_guest"]["drops"].items()
    if sys.argv[1] == "b" or k != "no_guest"})
assert not any(drops.values()), q
ts, tg = q["to_switch"]["packets"], q["to_guest"]["packets"]
print(f"  iothread {sys.argv[1]}: {ts} packets to the switch, {tg} to the guest, no drops")' "$vm" "$viommu" ||
		rp_fail "iothread $vm counters wrong"
done
echo "PASS: two Linux guests ARP-resolved and pinged each other through ringport and OVS"
