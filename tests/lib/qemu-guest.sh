# SPDX-License-Identifier: BSD-3-Clause
# tests/lib/qemu-guest.sh: small real Linux guests for tests and the quick
# start. QEMU 7.2 with TCG boots Debian's kernel (fetched by tests/setup.sh
# into .deps/guest) with an initramfs built here: busybox-static, the
# virtio-net modules, and an init that brings eth0 up from the kernel
# command line, then pings its peer (role ping) or answers (role pong).
# Source it after common.sh.
#
#   qg_need_vm_test          root, hugepages, built binaries, the OVS sandbox
#                            library and qg_need, or skip (exit 77)
#   qg_need                  set qemu, busybox, guest_dir, or skip (exit 77)
#   qg_initramfs DIR         build DIR/initramfs.gz
#   qg_start_iothreads DIR [OPTS...]
#                            iothreads for guests a and b (see below)
#   qg_start_vm DIR NAME IP PEER ROLE MAC [COUNT]
#                            boot a guest on vhost-user socket
#                            DIR/NAME-vhost.sock (the iothread's --vhost);
#                            console in DIR/NAME.console; sets vm_NAME to
#                            its pid. Role ping: COUNT pings (default 3),
#                            then "RP-GUEST: done" and power off. Role
#                            tcp-send: COUNT MiB of random bytes to PEER's
#                            TCP port 5001, "RP-GUEST: sent-md5 ..." and
#                            done; role tcp-recv: "RP-GUEST: got-md5 ..."
#                            of what one connection brought. Roles mig and
#                            mig-peer: a TCP stream each way at once (see
#                            there). Role mq
#                            (several queue pairs, see below): sets
#                            rp_queues combined channels, sends UDP flows
#                            from every vCPU to PEER, then prints its
#                            per-queue counters ("RP-GUEST: queues rx ...
#                            tx ...") every second.
#
# QG_MONITOR=PATH: an HMP monitor on that UNIX socket; QG_INCOMING=URI: wait
# for a migration from URI (QEMU -incoming); QG_PAUSED=1: do not run the
# guest until the monitor says "cont" (-S; after an incoming migration too).
# QG_VIOMMU=1 gives it a vIOMMU (q35, intel-iommu with device IOTLB,
# virtio-net iommu_platform=on,ats=on behind a PCIe root port;
# intel_iommu=on in the guest, which maps each buffer; QG_VIOMMU=pt: the
# guest maps its memory once, 1:1, iommu=pt). QG_MEM_KIB: the guest's
# memory in KiB (default 262144).
# QG_TRACE=PATTERN: QEMU trace events (-trace) into NAME.qemu.log.
# QG_QUEUES (default 1) and QG_SMP (default 1) give qg_start_vm's guest
# that many queue pairs (mq=on) and vCPUs; QG_APPEND adds to its kernel
# command line. rp-gtool (tests/tools, static) goes into the initramfs
# where RP_GTOOL names it: ethtool's channels and per-queue counters, and
# UDP flows, which busybox lacks.

. "$rp_top/tests/lib/topo.sh"

# qg_need_vm_test: what every guest test needs, or skip (exit 77) naming
# what is missing: root, 512 free hugepages, the PMD and the iothread
# built, QEMU and a guest kernel; sources the OVS sandbox library.
qg_need_vm_test() {
	rp_need_root
	rp_need_hugepages 512
	rp_need_ringport_bins
	rp_need_iothread_bins
	. "$rp_top/tests/lib/ovs-sandbox.sh"
	qg_need
}

qg_need() {
	qemu=$(command -v qemu-system-x86_64) || rp_skip "qemu-system-x86_64 missing (run tests/setup.sh)"
	busybox=$(command -v busybox) || rp_skip "busybox missing (run tests/setup.sh)"
	guest_dir=$rp_top/.deps/guest
	[ -f "$guest_dir/vmlinuz" ] || rp_skip "no guest kernel in $guest_dir (run tests/setup.sh)"
	file -L "$busybox" 2>/dev/null | grep -q "statically linked" ||
		busybox=/bin/busybox # busybox-static installs it here
}

# qg_need_gtool: RP_GTOOL (meson passes it; default the build's) exported
# for qg_initramfs, or fail.
qg_need_gtool() {
	RP_GTOOL=${RP_GTOOL:-$rp_top/build/tests/rp-gtool}
	[ -x "$RP_GTOOL" ] || rp_fail "rp-gtool not built at $RP_GTOOL"
	export RP_GTOOL
}

qg_initramfs() {
	local d=$1 r=$1/initramfs
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,lib/modules}
	cp "$busybox" "$r/bin/busybox"
	if [ -n "${RP_GTOOL:-}" ]; then cp "$RP_GTOOL" "$r/bin/rp-gtool"; fi
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
if [ "$rp_role" = mq ]; then
	# Nothing but the test's flows on the queues: no IPv6 chatter, no ARP.
	echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null
	echo "RP-GUEST: channels $(rp-gtool channels eth0 "$rp_queues")"
fi
ip link set eth0 up
ip addr add "$rp_ip/24" dev eth0
echo "RP-GUEST: eth0 up as $rp_ip"
if [ "$rp_role" = ping ]; then
	# Until B answers (it may still be booting), then the real count.
	i=0
	until ping -c 1 -W 1 "$rp_peer" >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i + 1)); done
	ping -c "${rp_count:-3}" -W 2 "$rp_peer" >/tmp/ping.out 2>&1
	cat /tmp/ping.out
	echo "RP-GUEST: $(grep 'packets transmitted' /tmp/ping.out)"
	echo "RP-GUEST: arp $(ip neigh show "$rp_peer")"
	echo "RP-GUEST: dev $(grep -E '^ *eth0' /proc/net/dev)"
	echo "RP-GUEST: icmp $(grep '^Icmp:' /proc/net/snmp | tail -n 1)"
	echo "RP-GUEST: done"
	# rp_hold=1: stay up (the test reads the backend's state first).
	[ -n "$rp_hold" ] && while :; do sleep 1; done
	poweroff -f
fi
if [ "$rp_role" = tcp-send ]; then
	# rp_count MiB of random bytes over one TCP connection: with TSO on,
	# the kernel hands the device 64 KB segments.
	dd if=/dev/urandom of=/tmp/blob bs=1048576 count="${rp_count:-8}" 2>/dev/null
	echo "RP-GUEST: sent-md5 $(md5sum </tmp/blob)"
	i=0
	until nc "$rp_peer" 5001 </tmp/blob || [ $i -ge 60 ]; do i=$((i + 1)); sleep 1; done
	echo "RP-GUEST: tcp $(grep -E '^ *eth0' /proc/net/dev)"
	echo "RP-GUEST: done"
	poweroff -f
fi
if [ "$rp_role" = mq ]; then
	arp -i eth0 -s "$rp_peer" "$rp_peer_mac" # busybox ip has no "neigh add"
	rp-gtool sink "$rp_sink_port" &
	# XPS maps vCPU c to TX queue c: one sender per vCPU, each its own flows.
	c=0 pids=""
	for cpu in /sys/devices/system/cpu/cpu[0-9]*; do
		taskset -c $c rp-gtool udp "$rp_peer" 9 $((20000 + 100 * c)) "$rp_flows" "$rp_count" \
			>/tmp/udp.$c 2>&1 &
		pids="$pids $!"
		c=$((c + 1))
	done
	wait $pids
	echo "RP-GUEST: sent $(cat /tmp/udp.* | tr '\n' ' ')"
	while :; do
		echo "RP-GUEST: queues $(rp-gtool queues eth0)"
		echo "RP-GUEST: irq $(grep -i virtio /proc/interrupts | tr -s ' ' | tr '\n' ';')"
		sleep 1
	done
fi
# Roles mig and mig-peer: two TCP streams at once, mig -> mig-peer on port
# 5001 and mig-peer -> mig on 5002, rp_count MiB each, every byte checked
# (MD5) at the far end; mig is the guest a test migrates meanwhile. Needs
# rp-gtool (its tcp-send waits until the peer has every byte). Then both
# ping each other once a second ("RP-GUEST: alive N reply|none").
if [ "$rp_role" = mig ] || [ "$rp_role" = mig-peer ]; then
	dd if=/dev/urandom of=/tmp/blob bs=1048576 count="${rp_count:-8}" 2>/dev/null
	echo "RP-GUEST: sent-md5 $(md5sum </tmp/blob) $(wc -c </tmp/blob) bytes"
	if [ "$rp_role" = mig ]; then lport=5002 rport=5001; else lport=5001 rport=5002; fi
	(echo "RP-GUEST: got-md5 $(rp-gtool tcp-recv $lport | md5sum)"
	 echo "RP-GUEST: received") &
	rx=$!
	echo "RP-GUEST: listening"
	rp-gtool tcp-send "$rp_peer" $rport $rp_rate </tmp/blob && echo "RP-GUEST: sent"
	wait $rx
	echo "RP-GUEST: tcp $(grep '^Tcp:' /proc/net/snmp | tail -n 1)"
	echo "RP-GUEST: done"
	# Then one ping a second, each answered or not: after a migration
	# the destination's console shows the guest runs and reaches its peer.
	i=0
	while :; do
		if ping -c 1 -W 1 "$rp_peer" >/dev/null 2>&1; then r=reply; else r=none; fi
		echo "RP-GUEST: alive $i $r"
		i=$((i + 1))
		sleep 1
	done
fi
if [ "$rp_role" = tcp-recv ]; then
	echo "RP-GUEST: listening"
	echo "RP-GUEST: got-md5 $(nc -l -p 5001 | md5sum)"
fi
echo "RP-GUEST: answering"
while :; do sleep 1; done
INIT
	chmod +x "$r/init"
	(cd "$r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$d/initramfs.gz"
}

# qg_start_iothreads DIR [IOTHREAD OPTIONS...]: one iothread for each of
# guests a and b (vhost DIR/NAME-vhost.sock, port DIR/NAME.sock, one queue
# pair, adaptive polling), logs in DIR/iothread-NAME.log; waits for their
# control sockets.
qg_start_iothreads() {
	local d=$1
	shift
	rp_topo_iothreads "$d" "a b" --queues 1 --poll adaptive "$@"
}

# QEMU as README.md shows it, but with TCG and INTx. Under TCG there is no
# irqfd, and a vhost-user virtio-net device with MSI-X hangs the guest in
# virtio_net's probe; vectors=0 gives legacy INTx, which works.
qg_start_vm() {
	local d=$1 name=$2 ip=$3 peer_ip=$4 role=$5 mac=$6 count=${7:-3} _p
	local nq=${QG_QUEUES:-1} mq="" machine=() append=${QG_APPEND:-}
	local mem=${QG_MEM_KIB:-262144}
	[ "$nq" -gt 1 ] && mq=",mq=on"
	if [ "${QG_VIOMMU:-0}" != 0 ]; then
		# An emulated Intel IOMMU with device IOTLB (ATS): the device sees
		# I/O virtual addresses, which the backend translates by asking
		# QEMU (vhost-user IOTLB messages). The NIC sits behind a PCIe
		# root port: only there does it have ATS, and without ATS the
		# guest sends no device-IOTLB invalidations, the only ones QEMU
		# 7.2 passes to a vhost-user backend (README: vIOMMU).
		machine=(-M q35 -device intel-iommu,device-iotlb=on
			-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1)
		mq+=",iommu_platform=on,ats=on,disable-legacy=on,bus=rp0"
		# The guest's driver maps each buffer it posts (iommu=nopt), or,
		# with QG_VIOMMU=pt, all its memory once, 1:1 (static mappings).
		append+=" intel_iommu=on iommu=$([ "$QG_VIOMMU" = pt ] && echo pt || echo nopt)"
	fi
	if [ -n "${QG_MONITOR:-}" ]; then
		machine+=(-monitor "unix:$QG_MONITOR,server=on,wait=off")
	else
		machine+=(-monitor none)
	fi
	if [ -n "${QG_INCOMING:-}" ]; then machine+=(-incoming "$QG_INCOMING"); fi
	if [ "${QG_PAUSED:-0}" = 1 ]; then machine+=(-S); fi
	"$qemu" -accel tcg "${machine[@]}" ${QG_TRACE:+-trace "$QG_TRACE"} -m "${mem}K" -smp "${QG_SMP:-1}" -display none -no-reboot \
		-kernel "$guest_dir/vmlinuz" -initrd "$d/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1 rp_ip=$ip rp_peer=$peer_ip rp_role=$role rp_count=$count rp_queues=$nq $append" \
		-object memory-backend-memfd,id=mem,size=${mem}K,share=on -numa node,memdev=mem \
		-chardev "socket,id=vhost0,path=$d/$name-vhost.sock" \
		-netdev "vhost-user,id=net0,chardev=vhost0,queues=$nq" \
		-device "virtio-net-pci,netdev=net0,vectors=0,mac=$mac$mq" \
		-serial "file:$d/$name.console" >"$d/$name.qemu.log" 2>&1 &
	_p=$!
	rp_on_exit rp_kill_pid $_p
	printf -v "vm_$name" '%s' "$_p"
}
