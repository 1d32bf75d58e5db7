#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# perf/mkbundle.sh DIR: pack what perf/bench.sh needs to run on a machine
# with no package archive (the lent 16-core machine), from this Debian 12
# build machine: the built ringport binaries and programs (build/), the
# installed OVS-DPDK and testpmd binaries, the DPDK drivers they load, the
# OVS schema, and every shared library they need except glibc's own (the
# target's glibc must be as new or newer). Output: DIR/bundle.tar.xz and
# DIR/MANIFEST (each file and the Debian package it came from).
# Unpack and run it there with perf/device-bench.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
-h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
'' | -*) echo "mkbundle: usage: perf/mkbundle.sh DIR (see --help)" >&2; exit 2 ;;
esac
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

sys_bins=(/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk /usr/sbin/ovsdb-server
	/usr/bin/ovsdb-tool /usr/bin/ovs-vsctl /usr/bin/ovs-appctl /usr/bin/ovs-ofctl
	/usr/bin/dpdk-testpmd)
# EAL loads only *.so and *.so.<ABI>.<minor> from its driver directory.
drivers=(librte_net_null.so.23.0 librte_net_virtio.so.23.0 librte_mempool_ring.so.23.0
	librte_bus_vdev.so.23.0)
rp_files=(dp-iothread/ringport-iothread switch-port/librte_net_ringport.so
	policy/ringportctl tests/rp-vguest tests/rp-peer xdp/rss.bpf.o xdp/rss_global.bpf.o xdp/steer_ring.bpf.o)
for f in "${rp_files[@]}"; do
	[ -f "$top/build/$f" ] || { echo "mkbundle: build/$f missing: build first" >&2; exit 1; }
	install -D "$top/build/$f" "$stage/build/$f"
done
for b in "${sys_bins[@]}"; do install -D "$b" "$stage/root$b"; done
install -D -m 0644 /usr/share/openvswitch/vswitch.ovsschema \
	"$stage/root/usr/share/openvswitch/vswitch.ovsschema"
# The drivers go with the libraries: device-bench.sh links them into EAL's
# driver directory, so that a driver EAL dlopen()s there and the same
# library a binary links are one file (two copies of librte_bus_vdev would
# be two vdev buses).
mkdir -p "$stage/lib"
for d in "${drivers[@]}"; do cp -L "$pmds/$d" "$stage/lib/${d%.0}"; done
# The library closure, glibc left out.
objs=("${sys_bins[@]}" "${drivers[@]/#/$pmds/}")
for f in "${rp_files[@]}"; do [[ $f == *.o ]] || objs+=("$top/build/$f"); done
for o in "${objs[@]}"; do ldd "$o" | awk '/=> \// {print $3}'; done | sort -u |
	grep -vE '/(libc|libm|libpthread|libdl|librt|libresolv)\.so|ld-linux' |
	while read -r l; do cp -nL "$l" "$stage/lib/"; done
(cd "$stage" && find . -type f | sort | while read -r f; do
	case $f in
	./build/*) pkg="ringport (built here)" ;;
	./root/*) pkg=$( (dpkg -S "${f#./root}" 2>/dev/null || true) | cut -d: -f1 | head -1) ;;
	*) pkg=$( (dpkg -S "*/$(basename "$f")" 2>/dev/null || true) | cut -d: -f1 | head -1) ;;
	esac
	echo "$f ${pkg:-?}"
done) >"$out/MANIFEST"
tar -C "$stage" -cJf "$out/bundle.tar.xz" .
echo "mkbundle: $(wc -l <"$out/MANIFEST") files, $(du -h "$out/bundle.tar.xz" | cut -f1) in $out/bundle.tar.xz"
