#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two libvirt domains on ringport: libvirtd (Debian's libvirt-daemon,
# QEMU driver) runs here in a private session instance (its config, state
# and sockets under the test's directory, as the unprivileged user the
# iothreads run as), and the domains come from the XML in README.md's
# "With libvirt" block, changed only where TCG and the test's small guests
# need it (listed below). Each domain's vhost-user interface connects to
# its own ringport-iothread, whose port is on one OVS bridge; domain A
# pings domain B, and both iothreads must have carried the traffic with
# no drop. Then both domains are destroyed and undefined, and the
# iothreads must see their front ends go.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$rp_top/tests/lib/qemu-guest.sh"
qg_need_vm_test
libvirtd=$(command -v libvirtd) || rp_skip "libvirtd missing (tests/setup.sh installs libvirt-daemon)"
virsh=$(command -v virsh) || rp_skip "virsh missing (tests/setup.sh installs libvirt-clients)"
compgen -G "/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so" >/dev/null ||
	rp_skip "libvirt's QEMU driver missing (tests/setup.sh installs libvirt-daemon-driver-qemu)"
user=${RINGPORT_IT_USER:-nobody}
group=$(id -gn "$user")

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
d=$sb/libvirt
rp_it_dir "$d"
# QEMU runs as $user: it must reach the sockets and read the guest files.
chmod 0755 "$sb" "$d"
qg_initramfs "$d"
cp "$guest_dir/vmlinuz" "$d/vmlinuz"
chmod 0644 "$d/vmlinuz" "$d/initramfs.gz"
qg_start_iothreads "$d"
for p in "vma 0 a" "vmb 1 b"; do
	set -- $p
	ovs_sb_add_port "$sb" br0 "$1" "net_ringport$2,path=$d/$3.sock" options:n_rxq=1 ||
		rp_fail "$1 not added"
done

# libvirtd, private: a session instance as $user, every directory it uses
# under $d/lv (XDG), ended by pid at exit.
lv=$d/lv
mkdir -p "$lv/run" "$lv/config" "$lv/cache" "$lv/data"
chmod 0700 "$lv/run"
chown -R "$user:$group" "$lv"
lv_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$lv" XDG_RUNTIME_DIR="$lv/run"
	XDG_CONFIG_HOME="$lv/config" XDG_CACHE_HOME="$lv/cache" XDG_DATA_HOME="$lv/data")
setpriv --reuid="$user" --regid="$group" --clear-groups "${lv_env[@]}" \
	"$libvirtd" >"$d/libvirtd.log" 2>&1 &
lvpid=$!
rp_on_exit rp_kill_pid $lvpid
virsh_() {
	setpriv --reuid="$user" --regid="$group" --clear-groups "${lv_env[@]}" \
		"$virsh" -q -c qemu:///session "$@"
}
rp_wait_for 30 "libvirtd" virsh_ version ||
	{ cat "$d/libvirtd.log" >&2; rp_fail "libvirtd did not answer"; }
rp_log "libvirtd (session, as $user) up: $(virsh_ version | grep -i 'running hypervisor' | tr -s ' ')"

# NAME IP PEER ROLE MAC: README's domain XML, changed only as listed.
domain_xml() {
	python3 - "$rp_top/README.md" "$d" "$@" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
readme, d, name, ip, peer, role, mac = sys.argv[1:]
m = re.search(r"<!-- libvirt-domain:[^\n]*-->\n```xml\n(.*?)```", open(readme).read(), re.S)
if not m:
    sys.exit("README.md: no libvirt-domain block")
dom = ET.fromstring(m.group(1))
dom.set("type", "qemu")                        # TCG: no usable /dev/kvm here
dom.find("name").text = "rp-" + name
mem = dom.find("memory")
mem.set("unit", "MiB")
mem.text = "256"
dom.find("vcpu").text = "1"
os_ = dom.find("os")                           # the test's kernel and initramfs
for tag, text in (("kernel", f"{d}/vmlinuz"), ("initrd", f"{d}/initramfs.gz"),
                  # pci=nomsi: under TCG (no irqfd) a vhost-user virtio-net
                  # with MSI-X hangs in probe; INTx works
                  ("cmdline", f"console=ttyS0 quiet panic=-1 pci=nomsi rp_ip={ip} rp_peer={peer} "
                              f"rp_role={role} rp_count=3 rp_queues=1 rp_hold=1")):
    ET.SubElement(os_, tag).text = text
devs = dom.find("devices")
for disk in devs.findall("disk"):              # no disk: the initramfs is the guest
    devs.remove(disk)
iface = devs.find("interface[@type='vhostuser']")
iface.find("mac").set("address", mac)
iface.find("source").set("path", f"{d}/{name}-vhost.sock")
iface.find("driver").set("queues", "1")        # the iothreads serve one queue pair
for tag in ("serial", "console"):              # the console to a file the test reads
    for e in devs.findall(tag):
        devs.remove(e)
ser = ET.SubElement(devs, "serial", type="file")
ET.SubElement(ser, "source", path=f"{d}/{name}.console")
print(ET.tostring(dom, encoding="unicode"))
PY
}

domains=()
cleanup_domains() {
	local n
	for n in "${domains[@]}"; do
		virsh_ destroy "rp-$n" >/dev/null 2>&1 || true
		virsh_ undefine "rp-$n" >/dev/null 2>&1 || true
	done
}
rp_on_exit cleanup_domains
start_domain() { # NAME IP PEER ROLE MAC
	domain_xml "$@" >"$d/$1.xml" || rp_fail "domain XML for $1"
	chmod 0644 "$d/$1.xml"
	domains+=("$1")
	virsh_ define "$d/$1.xml" >/dev/null || rp_fail "virsh define $1"
	virsh_ start "rp-$1" >/dev/null || {
		tail -n 20 "$lv/cache/libvirt/qemu/log/rp-$1.log" >&2 || true
		rp_fail "virsh start rp-$1"
	}
}
start_domain b 10.0.0.2 10.0.0.1 pong 52:54:00:00:00:02
rp_log "domain rp-b started (TCG guest booting)"
rp_wait_for 240 "domain B's eth0 up" grep -q "RP-GUEST: eth0 up" "$d/b.console" || {
	tail -n 20 "$d/b.console" "$lv/cache/libvirt/qemu/log/rp-b.log" >&2 || true
	rp_fail "domain B did not bring eth0 up"
}
start_domain a 10.0.0.1 10.0.0.2 ping 52:54:00:00:00:01
rp_log "domain rp-a started"
rp_wait_for 240 "domain A to finish pinging" grep -q "RP-GUEST: done" "$d/a.console" || {
	tail -n 20 "$d/a.console" "$d/b.console" >&2
	rp_fail "domain A did not finish"
}
grep "RP-GUEST" "$d/a.console"
line=$(grep "RP-GUEST: .*packets transmitted" "$d/a.console" || true)
[[ $line =~ 3\ packets\ transmitted,\ 3\ packets\ received ]] ||
	rp_fail "domain A: $line (want 3 of 3 replies)"
# What libvirt gave QEMU: a vhost-user netdev on the iothread's socket
# and shared guest memory.
cmd=$(tr '\0' ' ' </proc/"$(cat "$lv/run/libvirt/qemu/run/rp-a.pid")"/cmdline)
[[ $cmd == *"$d/a-vhost.sock"* && $cmd == *vhost-user* && $cmd == *memory-backend-memfd* ]] ||
	rp_fail "domain A's QEMU: $cmd"
for vm in a b; do
	"$ctl" --ctl "$d/$vm.sock.ctl" status | python3 -c '
import json, sys
s = json.load(sys.stdin)
q = s["queues"][0]
assert s["vhost"]["running"], s["vhost"]
assert q["to_switch"]["packets"] >= 4 and q["to_guest"]["packets"] >= 4, q
# B was up first: what it flooded before the driver of A came up is
# no_guest at A; every other drop is a fault.
drops = {d + " " + k: n for d in ("to_switch", "to_guest") for k, n in q[d]["drops"].items()
         if n and (sys.argv[1] == "b" or d + " " + k != "to_guest no_guest")}
assert not drops, drops
ts, tg, ng = q["to_switch"]["packets"], q["to_guest"]["packets"], q["to_guest"]["drops"]["no_guest"]
print(f"  iothread {sys.argv[1]}: {ts} packets to the switch, {tg} to the guest, no drops but {ng} no_guest")' "$vm" ||
		rp_fail "iothread $vm counters wrong"
done

# Destroyed and undefined: the iothreads see their front ends go.
for n in a b; do
	virsh_ destroy "rp-$n" >/dev/null || rp_fail "virsh destroy rp-$n"
	virsh_ undefine "rp-$n" >/dev/null || rp_fail "virsh undefine rp-$n"
done
domains=()
gone() {
	"$ctl" --ctl "$d/$1.sock.ctl" status |
		python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["vhost"]["connected"])'
}
for vm in a b; do
	rp_wait_for 20 "iothread $vm to see its front end go" gone "$vm" || rp_fail "iothread $vm still connected"
done
[ -z "$(virsh_ list --all --name)" ] || rp_fail "domains left: $(virsh_ list --all --name)"
echo "PASS: two libvirt domains (README's XML) pinged each other through ringport and OVS"
