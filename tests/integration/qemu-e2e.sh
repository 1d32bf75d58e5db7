#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two real Linux guests (QEMU 7.2, TCG, Debian's kernel, a busybox
# initramfs built here) on one OVS bridge, each behind its own
# ringport-iothread. Guest A ARP-resolves and pings guest B through
# ringport; the test asserts what guest A reports on its console.
# The QEMU, iothread and OVS lines are the ones README.md documents.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"

rp_need_root
rp_need_hugepages 512
rp_need_ringport_bins
rp_need_iothread_bins
qemu=$(command -v qemu-system-x86_64) || rp_skip "qemu-system-x86_64 missing (run tests/setup.sh)"
busybox=$(command -v busybox) || rp_skip "busybox missing (run tests/setup.sh)"
guest_dir=$rp_top/.deps/guest
[ -f "$guest_dir/vmlinuz" ] || rp_skip "no guest kernel in $guest_dir (run tests/setup.sh)"
file -L "$busybox" 2>/dev/null | grep -q "statically linked" ||
	busybox=/bin/busybox # busybox-static installs it here

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0 # its default flow is NORMAL: ARP floods, MACs are learnt
d=$sb/qemu
mkdir -p "$d"

# The initramfs: busybox, the virtio-net modules, and an init that sets
# up eth0 from the kernel command line, then pings (role ping) or answers
# (role pong).
mk_initramfs() {
	local r=$d/initramfs
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$busybox" "$r/bin/busybox"
	cp "$guest_dir"/modules/* "$r/lib/modules/"
	cat >"$r/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/modules.order); do
	insmod /lib/modules/$m
done
for a in $(cat /proc/cmdline); do
	case $a in rp_*=*) eval "${a%%=*}=${a#*=}" ;; esac
done
ip link set lo up
ip link set eth0 up
ip addr add "$rp_ip/24" dev eth0
echo "RP-GUEST: eth0 up as $rp_ip"
if [ "$rp_role" = ping ]; then
	# Until B answers (it may still be booting), then the real count.
	i=0
	until ping -c 1 -W 1 "$rp_peer" >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i + 1)); done
	ping -c 3 -W 2 "$rp_peer" >/tmp/ping.out 2>&1
	cat /tmp/ping.out
	echo "RP-GUEST: $(grep 'packets transmitted' /tmp/ping.out)"
	echo "RP-GUEST: arp $(ip neigh show "$rp_peer")"
	echo "RP-GUEST: done"
	poweroff -f
fi
echo "RP-GUEST: answering"
while :; do sleep 1; done
INIT
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$d/initramfs.gz"
}
mk_initramfs

# start_vm NAME IP PEER ROLE MAC: QEMU as README.md shows it, but with
# TCG and INTx. Under TCG there is no irqfd, and a vhost-user virtio-net
# device with MSI-X hangs the guest in virtio_net's probe; vectors=0 gives
# legacy INTx, which works (DESIGN.md §8).
start_vm() {
	local name=$1 ip=$2 peer_ip=$3 role=$4 mac=$5 _p
	"$qemu" -accel tcg -m 256 -smp 1 -display none -monitor none -no-reboot \
		-kernel "$guest_dir/vmlinuz" -initrd "$d/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1 rp_ip=$ip rp_peer=$peer_ip rp_role=$role" \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-chardev "socket,id=vhost0,path=$d/$name-vhost.sock" \
		-netdev vhost-user,id=net0,chardev=vhost0,queues=1 \
		-device "virtio-net-pci,netdev=net0,vectors=0,mac=$mac" \
		-serial "file:$d/$name.console" >"$d/$name.qemu.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	printf -v "vm_$name" '%s' "$_p"
}

for vm in a b; do
	"$iot" --vhost "$d/$vm-vhost.sock" --port "$d/$vm.sock" --queues 1 --poll adaptive \
		>"$d/iothread-$vm.log" 2>&1 &
	pid=$!
	rp_on_exit rp_kill_pid $pid
done
rp_wait_for 20 "iothread sockets" test -S "$d/a.sock.ctl" -a -S "$d/b.sock.ctl" ||
	rp_fail "iothreads did not start"
ovs_sb_vsctl "$sb" add-port br0 vma -- set Interface vma type=dpdk \
	"options:dpdk-devargs=net_ringport0,path=$d/a.sock" options:n_rxq=1 \
	options:dpdk-lsc-interrupt=true || rp_fail "vma not added"
ovs_sb_vsctl "$sb" add-port br0 vmb -- set Interface vmb type=dpdk \
	"options:dpdk-devargs=net_ringport1,path=$d/b.sock" options:n_rxq=1 \
	options:dpdk-lsc-interrupt=true || rp_fail "vmb not added"

start_vm b 10.0.0.2 10.0.0.1 pong 52:54:00:00:00:02
start_vm a 10.0.0.1 10.0.0.2 ping 52:54:00:00:00:01
rp_log "two TCG guests booting (Debian kernel, busybox initramfs)"
if ! rp_wait_for 240 "guest A to finish pinging" grep -q "RP-GUEST: done" "$d/a.console"; then
	tail -n 20 "$d/a.console" "$d/b.console" "$d/a.qemu.log" >&2
	"$ctl" --ctl "$d/a.sock.ctl" status >&2 || true
	rp_fail "guest A did not finish"
fi
grep "RP-GUEST" "$d/a.console"
line=$(grep "RP-GUEST: .*packets transmitted" "$d/a.console" || true)
[[ $line =~ 3\ packets\ transmitted,\ 3\ packets\ received ]] ||
	rp_fail "guest A: $line (want 3 of 3 replies)"
grep -q "RP-GUEST: arp 10.0.0.2 dev eth0 lladdr 52:54:00:00:00:02" "$d/a.console" ||
	rp_fail "guest A did not resolve 10.0.0.2 to guest B's MAC"
for vm in a b; do
	"$ctl" --ctl "$d/$vm.sock.ctl" status | python3 -c '
import json, sys
s = json.load(sys.stdin)
q = s["queues"][0]
assert s["vhost"]["running"] or sys.argv[1] == "a", s["vhost"]
assert q["to_switch"]["packets"] >= 4 and q["to_guest"]["packets"] >= 4, q
# Guest A powers off when done: what B still sends it then is no_guest.
drops = dict(q["to_switch"]["drops"], **{"to_guest_" + k: v for k, v in q["to_guest"]["drops"].items()
    if sys.argv[1] == "b" or k != "no_guest"})
assert not any(drops.values()), q
ts, tg = q["to_switch"]["packets"], q["to_guest"]["packets"]
print(f"  iothread {sys.argv[1]}: {ts} packets to the switch, {tg} to the guest, no drops")' "$vm" ||
		rp_fail "iothread $vm counters wrong"
done
echo "PASS: two Linux guests ARP-resolved and pinged each other through ringport and OVS"
