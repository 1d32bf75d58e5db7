#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tests/setup.sh: prepare a Debian 12 machine for ringport. Idempotent.
#
#  1. installs the Debian packages the project needs, only those missing;
#  2. fetches the DPDK driver-SDK headers (not shipped by libdpdk-dev) from
#     `apt-get source dpdk` at exactly the installed libdpdk-dev version,
#     into .deps/dpdk-sdk/ (ignored by git);
#  3. fetches a guest kernel for the QEMU tests into .deps/guest/;
#  4. mounts hugetlbfs and makes sure enough free 2 MB pages exist;
#  5. turns the scheduler's autogroups off (kernel.sched_autogroup_enabled),
#     so that the tests' busy-polling threads, pinned to shared CPUs, get
#     fair shares of them (see README, "Requirements").
#
# A run that finds everything in place changes nothing and says so.
# Environment: RINGPORT_HUGEPAGES (free 2 MB pages wanted, default 1536).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sdk_dir="$top/.deps/dpdk-sdk"
want_pages=${RINGPORT_HUGEPAGES:-1536}
changed=()

case ${1:-} in
-h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
'') ;;
*) echo "setup: unknown option '$1' (it takes none; see --help)" >&2; exit 2 ;;
esac

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "setup: must run as root (hugepages, apt)" >&2; exit 2; }
case "$want_pages" in
''|*[!0-9]*) echo "setup: RINGPORT_HUGEPAGES='$want_pages' is not a number" >&2; exit 2 ;;
esac

# --- 1. Debian packages -------------------------------------------------
pkgs=(
	dpdk-dev libdpdk-dev openvswitch-switch-dpdk
	libbpf-dev libelf-dev clang llvm lld
	meson ninja-build pkg-config gcc
	libcmocka-dev libpcap-dev libjansson-dev libseccomp-dev libcap-ng-dev
	dpkg-dev xz-utils procps iproute2 util-linux jq gnuplot-nox
	qemu-system-x86 busybox-static cpio kmod
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	ovn-central ovn-host iputils-ping
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
apt_updated=0
apt_update() {
	[ $apt_updated -eq 1 ] && return 0
	apt-get update -q >/dev/null || die "apt-get update failed"
	apt_updated=1
}
if [ ${#missing[@]} -gt 0 ]; then
	say "installing: ${missing[*]}"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
	changed+=("packages")
fi

# The DPDK that OVS runs on, the one we build against and the SDK headers
# must be one version: a PMD built against another ABI corrupts OVS.
dev_ver=$(dpkg-query -W -f='${Version}' libdpdk-dev)
eal_pkg=$(dpkg-query -W -f='${Package}\n' 'librte-eal*' 2>/dev/null | head -n1)
eal_ver=$(dpkg-query -W -f='${Version}' "$eal_pkg" 2>/dev/null || true)
[ "$dev_ver" = "$eal_ver" ] ||
	die "libdpdk-dev is $dev_ver but $eal_pkg (used by ovs-vswitchd-dpdk) is '$eal_ver'"

# --- 2. DPDK driver-SDK headers -----------------------------------------
sdk_headers=(ethdev_driver.h ethdev_vdev.h bus_vdev_driver.h dev_driver.h bus_driver.h)
have_sdk=0
if [ -f "$sdk_dir/VERSION" ] && [ "$(cat "$sdk_dir/VERSION")" = "$dev_ver" ]; then
	have_sdk=1
	for h in "${sdk_headers[@]}"; do
		[ -f "$sdk_dir/include/$h" ] || have_sdk=0
	done
fi
if [ $have_sdk -eq 0 ]; then
	if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		say "adding deb-src entries (needed by apt-get source dpdk)"
		src=/etc/apt/sources.list.d/ringport-deb-src
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$src.sources"
		elif [ -f /etc/apt/sources.list ]; then
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$src.list"
		else
			die "no apt sources found to derive a deb-src entry from"
		fi
		apt_updated=0
		changed+=("deb-src")
	fi
	apt_update
	say "fetching DPDK $dev_ver sources for the driver-SDK headers"
	work=$(mktemp -d "${TMPDIR:-/tmp}/ringport-dpdk-src.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && apt-get source -q "dpdk=$dev_ver" >"$work/apt-source.log" 2>&1) ||
		{ tail -n 5 "$work/apt-source.log" >&2; die "apt-get source dpdk=$dev_ver failed (the archive may no longer carry this version)"; }
	srcdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'dpdk*' | head -n1)
	[ -n "$srcdir" ] || die "apt-get source dpdk=$dev_ver unpacked nothing"
	src_ver=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
	[ "$src_ver" = "$dev_ver" ] ||
		die "DPDK source is $src_ver but the installed libdpdk-dev is $dev_ver"
	rm -rf "$sdk_dir"
	mkdir -p "$sdk_dir/include"
	for h in "${sdk_headers[@]}"; do
		f=$(find "$srcdir/lib" "$srcdir/drivers" -name "$h" -type f | head -n1)
		[ -n "$f" ] || die "$h not found in DPDK $dev_ver sources"
		install -m 0644 "$f" "$sdk_dir/include/$h"
	done
	echo "$dev_ver" >"$sdk_dir/VERSION"
	rm -rf "$work"
	trap - EXIT
	changed+=("dpdk-sdk-headers")
fi

# --- 3. A guest kernel for the QEMU end-to-end test ---------------------
# Debian's own kernel, unpacked (not installed) into .deps/guest/: vmlinuz
# and the virtio-net modules. The initramfs is built per test run.
guest_dir="$top/.deps/guest"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || { apt_update; kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
[ -n "$kpkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on"
guest_fmt=2 # bump when what is unpacked changes
if [ ! -f "$guest_dir/PACKAGE" ] || [ "$(cat "$guest_dir/PACKAGE")" != "$kpkg $guest_fmt" ]; then
	apt_update
	say "fetching the guest kernel ($kpkg) for the QEMU test"
	work=$(mktemp -d "${TMPDIR:-/tmp}/ringport-kernel.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && apt-get download -q "$kpkg" >"$work/dl.log" 2>&1) ||
		{ tail -n 5 "$work/dl.log" >&2; die "apt-get download $kpkg failed"; }
	dpkg-deb -x "$work"/*.deb "$work/root"
	rm -rf "$guest_dir"
	mkdir -p "$guest_dir/modules"
	kver=${kpkg#linux-image-}
	install -m 0644 "$work/root/boot/vmlinuz-$kver" "$guest_dir/vmlinuz"
	# virtio-pci, virtio-net and what they need, in load order, for
	# busybox insmod (modules.order lists them).
	depmod -b "$work/root" "$kver" || die "depmod on $kpkg failed"
	modprobe -d "$work/root" -S "$kver" -a --show-depends virtio_pci virtio_net 2>/dev/null |
		awk '$1 == "insmod" && !seen[$2]++ {print $2}' >"$work/order"
	grep -q '/virtio_net\.ko' "$work/order" ||
		grep -q virtio_net "$work/root/lib/modules/$kver/modules.builtin" ||
		die "virtio_net is neither a module nor built into $kpkg"
	while read -r f; do
		m=$(basename "$f")
		case $f in
		*.xz) xz -dc "$f" >"$guest_dir/modules/${m%.xz}"; m=${m%.xz} ;;
		*) install -m 0644 "$f" "$guest_dir/modules/$m" ;;
		esac
		echo "$m" >>"$guest_dir/modules/modules.order"
	done <"$work/order"
	echo "$kpkg $guest_fmt" >"$guest_dir/PACKAGE"
	rm -rf "$work"
	trap - EXIT
	changed+=("guest-kernel")
fi

# --- 4. Hugepages --------------------------------------------------------
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
[ -d "$hp" ] || die "this kernel has no 2 MB hugepages ($hp missing)"
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages ||
		die "cannot mount hugetlbfs on /dev/hugepages"
	changed+=("hugetlbfs-mount")
fi
free_pages=$(cat "$hp/free_hugepages")
if [ "$free_pages" -lt "$want_pages" ]; then
	total=$(cat "$hp/nr_hugepages")
	target=$((total + want_pages - free_pages))
	echo "$target" >"$hp/nr_hugepages"
	free_pages=$(cat "$hp/free_hugepages")
	[ "$free_pages" -ge "$want_pages" ] ||
		die "asked for $target 2 MB hugepages but only $free_pages are free (want $want_pages): memory too fragmented?"
	changed+=("hugepages=$target")
fi

# --- 5. Scheduler autogroups -------------------------------------------
# With autogroups on, every session (each daemonised ovs-vswitchd, the test
# itself) is a group of its own, weighed against the others per CPU. On
# some kernels (seen on 6.18) a group whose load changes all the time (an
# iothread worker with test guests waking next to it) is reweighed so often
# that its debt to the others is forgiven each time: it keeps CPU 0, and
# the OVS PMD thread pinned there gets nothing for tens of seconds.
ag=/proc/sys/kernel/sched_autogroup_enabled
if [ -e "$ag" ] && [ "$(cat "$ag")" != 0 ]; then
	echo 0 >"$ag" || die "cannot turn scheduler autogroups off ($ag)"
	changed+=("sched_autogroup_enabled=0")
fi

if [ ${#changed[@]} -eq 0 ]; then
	say "nothing to do: packages, DPDK $dev_ver SDK headers, $free_pages free hugepages and scheduler autogroups off already in place"
else
	say "done (${changed[*]}); DPDK $dev_ver, $free_pages free 2 MB hugepages"
fi
