#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# perf/device-bench.sh BUNDLE.tar.xz [bench.sh options]: run perf/bench.sh
# on a machine that has no package archive, from a bundle made by
# perf/mkbundle.sh on the Debian build machine. As root. It unpacks the
# bundle under /opt, adds the system files it carries (OVS-DPDK, testpmd,
# the DPDK drivers, the OVS schema) without replacing any file the machine
# already has, points the dynamic loader at the bundle's libraries for the
# benchmark's processes only, prepares hugepages, and runs the benchmark
# with the bundle's ringport binaries. Nothing is installed with a package
# manager; /opt/rpbundle.* is left for inspection.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
-h | --help) awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
'' | -*) echo "device-bench: usage: perf/device-bench.sh BUNDLE.tar.xz [bench.sh options] (see --help)" >&2; exit 2 ;;
esac
bundle=$1
shift
[ "$(id -u)" -eq 0 ] || { echo "device-bench: run as root" >&2; exit 2; }
[ ! -e /usr/lib/x86_64-linux-gnu/librte_eal.so.23 ] ||
	{ echo "device-bench: this machine has DPDK installed: run perf/bench.sh itself" >&2; exit 2; }
b=$(mktemp -d /opt/rpbundle.XXXXXX)
chmod 0755 "$b"
tar -C "$b" -xJf "$bundle"
tar -C "$b/root" -cf - . | tar -C / -xf - --skip-old-files # never replaces what is there
# EAL's driver directory (the path Debian's DPDK was built with): links to
# the bundle's driver libraries, the same files the loader maps for the
# binaries that link them directly.
pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
mkdir -p "$pmds"
for f in "$b"/lib/librte_{net_null,net_virtio,mempool_ring,bus_vdev}.so.23; do
	ln -sfn "$f" "$pmds/$(basename "$f").0"
done
export LD_LIBRARY_PATH=$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export RINGPORT_IOTHREAD=$b/build/dp-iothread/ringport-iothread
export RINGPORT_PMD=$b/build/switch-port/librte_net_ringport.so
export RINGPORTCTL=$b/build/policy/ringportctl RP_VGUEST=$b/build/tests/rp-vguest
export RP_PEER=$b/build/tests/rp-peer
want=${RINGPORT_HUGEPAGES:-2048}
mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages; }
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
total=$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)
[ "$free" -ge "$want" ] || echo $((total + want - free)) >/proc/sys/vm/nr_hugepages
echo "device-bench: $(nproc) CPUs, $(awk '/HugePages_Free/ {print $2}' /proc/meminfo) free hugepages, bundle in $b"
exec "$top/perf/bench.sh" "$@"
