#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Cross-chassis guest -> guest under OVN: ringport ports beside OVS's
# native vhost-user ports on the same two-chassis test bed
# (tests/lib/ovn.sh: OVN central, chassis A and B, each an OVS-DPDK sandbox
# in a network namespace, Geneve over a memif underlay), one mode after the
# other, the same guests (tests/tools/rp-vguest on net_virtio_user) and the
# same logical ports (README's "Running under OVN" commands):
#
#   guest 1 - [iothread 1] - vm1  chassis A  =Geneve=  chassis B  vm2 - [iothread 2] - guest 2
#
#   modes      native    vm1/vm2 are dpdkvhostuserclient ports
#              ringport  vm1/vm2 are ringport ports (iothread + PMD, copying rx)
#   scenarios  ovn-encap  guest 1 -> guest 2: chassis A classifies, encapsulates
#                         in Geneve and sends to the underlay
#              ovn-decap  guest 2 -> guest 1: chassis A receives from the
#                         underlay, decapsulates, classifies and delivers
#
# Both scenarios are measured on chassis A, whose one PMD thread has a CPU
# of its own (CPU 1); chassis B, the guests and the iothreads share CPU 0
# on a machine with fewer than 7 CPUs (else each gets its own). Per window:
# chassis A's PMD processing cycles per packet (pmd-stats-show), iothread 1's
# busy cycles per packet in the scenario's direction (ringportctl status),
# their sum (chassis A's path cost), and the frames delivered to the
# receiving guest's port. The sender runs at a fixed --rate (frames per
# second): the figures are per-packet costs at that offered load, not a
# capacity. Mpps is the offered load delivered and is marked "shared" (not
# a measurement) wherever stages share CPUs: on 2 CPUs, read the cycles.
#
#   perf/ovn-bench.sh [--quick] [--seconds S] [--trials N] [--sizes LIST]
#                     [--rate PPS] [--modes LIST] [--scenarios LIST]
#                     [--out DIR] [--check]
#
# Output under --out (default perf/results/<date>-<host>-ovn), in
# perf/bench.sh's formats (perf/rpbench, report): results.jsonl,
# summary.json, summary.csv, table.md. --quick: 64-byte frames, 1 window of
# 3 s. --check: exit 1 unless every configuration delivered frames and every
# ratio is there (speed is never asserted). Sizes are at most 1456 bytes:
# Geneve takes 58 of the underlay's 1500 (README: MTU under Geneve).
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"
. "$rp_top/perf/lib.sh"
. "$rp_top/tests/lib/ovn.sh"
. "$rp_top/tests/lib/topo.sh"

secs=10 trials=3 sizes="64 512 1456" rate=20000 check=0 quick=0 out=""
modes="native ringport" scenarios="ovn-encap ovn-decap"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 secs=3 trials=1 sizes=64; shift ;;
	--seconds) secs=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	--sizes) sizes=${2//,/ }; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--modes) modes=${2//,/ }; shift 2 ;;
	--scenarios) scenarios=${2//,/ }; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--check) check=1; shift ;;
	-h | --help) perf_usage "$0"; exit 0 ;;
	*) echo "ovn-bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
perf_num ovn-bench --seconds "$secs" 1
perf_num ovn-bench --trials "$trials" 1
perf_num ovn-bench --rate "$rate" 1
for s in $sizes; do
	perf_num ovn-bench --sizes "$s" 64
	[ "$s" -le 1456 ] || { echo "ovn-bench: --sizes '$s': at most 1456 (Geneve takes 58 bytes of 1500)" >&2; exit 2; }
done
for m in $modes; do
	case $m in native | ringport) ;; *) echo "ovn-bench: --modes '$m': native or ringport" >&2; exit 2 ;; esac
done
for s in $scenarios; do
	case $s in ovn-encap | ovn-decap) ;; *) echo "ovn-bench: --scenarios '$s': ovn-encap or ovn-decap" >&2; exit 2 ;; esac
done

# CPUs: chassis A's PMD thread on CPU 1, alone. With 7 CPUs or more,
# chassis B's PMD, the two iothreads and the two guests get one each
# (2..6); else they all share CPU 0.
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || { echo "ovn-bench: needs 2 CPUs at least (chassis A's PMD keeps one)" >&2; exit 2; }
if [ "$ncpu" -ge 7 ]; then
	shared=0 pmd_b=2 iot_cpu=(3 4) guest_cpu=(5 6)
else
	shared=1 pmd_b=0 iot_cpu=(0 0) guest_cpu=(0 0)
fi

trap 'echo "ovn-bench: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
rp_need_root
rp_need_hugepages 1024
rp_need_ringport_bins
rp_need_iothread_bins
ovn_need
[ -n "$out" ] || out=$rp_top/perf/results/$(date +%Y%m%d)-$(hostname -s)-ovn$([ $quick -eq 1 ] && echo -quick)
mkdir -p "$out"
: >"$out/results.jsonl"
MAC1=02:52:50:00:01:01 IP1=10.0.0.1
MAC2=02:52:50:00:01:02 IP2=10.0.0.2

# ---- the test bed, once --------------------------------------------------
ovn_two_chassis 0x2 "$(printf '0x%x' $((1 << pmd_b)))" || rp_fail "the two-chassis bed did not come up"
# Both switches ahead of everything else on a shared CPU: their processes
# are sessions of their own (--detach), so autogroups, and the kernel's
# fair scheduler let the iothreads and guests on CPU 0 (one session, this
# script's) keep chassis B's PMD thread off it for 16 s and more ("blocked
# waiting for pmd-c00 to quiesce"), the underlay's ring full.
for sb in "$cha" "$chb"; do
	echo -10 >"/proc/$(ovs_sb_pid "$sb")/autogroup" || rp_fail "could not raise $sb's priority"
done
ovn_readme_nb "$central" || rp_fail "README's ovn-nbctl commands failed"
work=$central/bench
rp_it_dir "$work"
rp_log "OVN central and chassis A, B up; chassis A's PMD on CPU 1, the rest on" \
	"$([ $shared -eq 1 ] && echo "CPU 0 (shared)" || echo "CPUs of their own")" >&2

# ---- per mode: ports vm1 (A) and vm2 (B), guests 1 and 2 ------------------
stop_all() {
	perf_stop_spawned
	ovs_sb_vsctl "$cha" --if-exists del-port br-int vm1
	ovs_sb_vsctl "$chb" --if-exists del-port br-int vm2
}
# port SB N MODE: vmN on chassis SB, bound to lspN, behind iothread N
# (ringport) or a vhost-user server guest (native).
port() {
	local sb=$1 n=$2 mode=$3
	if [ "$mode" = ringport ]; then
		local p
		rp_topo_iothread p "$work" "vm$n" --cpus "${iot_cpu[n - 1]}" \
			--poll "$([ $shared -eq 1 ] && echo adaptive || echo busy)"
		perf_pids+=("$p")
		rp_topo_wait "$work" "vm$n"
		rp_topo_port "$sb" br-int "$work" "vm$n" "vm$n" $((cfg * 2 + n)) "external_ids:iface-id=lsp$n"
	else
		ovs_sb_vsctl "$sb" add-port br-int "vm$n" -- set Interface "vm$n" type=dpdkvhostuserclient \
			"options:vhost-server-path=$work/vm$n-vhost.sock" "external_ids:iface-id=lsp$n" >/dev/null ||
			rp_fail "vm$n not added"
	fi
}
# guest N MODE SIZE SEND: guest N on vN.sock, sending SEND frames at --rate
# (0: receives only) to the other guest.
guest() {
	local n=$1 mode=$2 size=$3 send=$4 addr peer srv=()
	[ "$n" = 1 ] && addr="$MAC1,$IP1" peer="$MAC2,$IP2" || addr="$MAC2,$IP2" peer="$MAC1,$IP1"
	[ "$mode" = native ] && srv=(--server)
	rm -f "$work/g$n.json"
	"$vguest" --vhost "$work/vm$n-vhost.sock" "${srv[@]}" --addr "$addr" --peer "$peer" --forever \
		--send "$send" --rate "$rate" --flows 64 --frame-size "$size" --cpu "${guest_cpu[n - 1]}" \
		>"$work/g$n.json" 2>"$work/g$n.err" &
	perf_pids+=($!)
	eval "g$n=$!"
	rp_on_exit rp_kill_pid $!
	if [ "$mode" = native ]; then
		rp_wait_for 20 "guest $n's socket" test -S "$work/vm$n-vhost.sock" ||
			{ cat "$work/g$n.err" >&2; rp_fail "guest $n did not start"; }
	fi
}
up() { # wait until lsp1 and lsp2 are bound and up, and the flows are in
	ovn_nbctl "$central" wait-until Logical_Switch_Port lsp1 up=true &&
		ovn_nbctl "$central" wait-until Logical_Switch_Port lsp2 up=true &&
		ovn_nbctl "$central" --wait=hv sync >/dev/null ||
		{ ovn_chassis_log_tail "$cha"; ovn_chassis_log_tail "$chb"; rp_fail "lsp1, lsp2 not up"; }
}
flowing() { # SB PORT: more than 2 s' worth at --rate left PORT toward its guest
	local n
	n=$(ovs_sb_port_packets "$1" "$2" TX) && [ -n "$n" ] && [ "$n" -gt $((2 * rate)) ]
}
dump() { # what a failed configuration leaves to read
	local n
	tail -n 5 "$work"/g*.err >&2 || true
	for n in 1 2; do
		[ -S "$work/vm$n.sock.ctl" ] && echo "iothread $n: $("$ctl" --ctl "$work/vm$n.sock.ctl" status 2>&1)" >&2
	done
	ovs_sb_log_tail "$cha" 10
	ovs_sb_log_tail "$chb" 10
	ovs_sb_appctl "$cha" dpctl/show -s >&2 || true
	ovs_sb_appctl "$chb" dpctl/show -s >&2 || true
}
# iothread 1's busy cycles and packets in direction DIR, and the times its
# workers slept (each one a wake-up the other side had to send, on a
# shared CPU): "cycles packets sleeps"
iot_counts() {
	[ "$1" = ringport ] || { echo "0 0 0"; return; }
	"$ctl" --ctl "$work/vm1.sock.ctl" status | perf_py iot-counts --dir "$2"
}

# window MODE SC SIZE TRIAL: one measurement on chassis A, one JSON line.
window() {
	local mode=$1 sc=$2 dir rx_sb rx_port i0 i1 d0 d1 stats
	if [ "$sc" = ovn-encap ]; then
		dir=to_switch rx_sb=$chb rx_port=vm2
	else
		dir=to_guest rx_sb=$cha rx_port=vm1
	fi
	i0=$(iot_counts "$mode" $dir)
	d0=$(ovs_sb_port_packets "$rx_sb" $rx_port TX)
	ovs_sb_appctl "$cha" dpif-netdev/pmd-stats-clear >/dev/null
	sleep "$secs" # the measurement window, not synchronisation
	stats=$(ovs_sb_pmd_stats "$cha")
	d1=$(ovs_sb_port_packets "$rx_sb" $rx_port TX)
	i1=$(iot_counts "$mode" $dir)
	perf_py ovn-window --mode "$mode" --scenario "$sc" --size "$3" --trial "$4" \
		--seconds "$secs" --rate "$rate" --shared "$shared" --iot-cpus "${iot_cpu[0]}" \
		--guest-cpus "$(IFS=+; echo "${guest_cpu[*]}")" --delivered "$((d1 - d0))" \
		--dir "$dir" --iot-before "$i0" --iot-after "$i1" --pmd-stats - <<<"$stats" |
		tee -a "$out/results.jsonl" >&2
}

cfg=0
for mode in $modes; do
	for sc in $scenarios; do
		for size in $sizes; do
			cfg=$((cfg + 1))
			where="chassis A's PMD on CPU 1"
			[ $mode = ringport ] && where+=", iothreads on CPUs ${iot_cpu[*]}"
			rp_log "$mode $sc ${size}B at $rate frames/s: $where, guests on CPUs ${guest_cpu[*]}" >&2
			rm -f "$work"/*.sock "$work"/*.ctl
			if [ $sc = ovn-encap ]; then s1=1000000000000 s2=0 rx_sb=$chb rx_port=vm2; else s1=0 s2=1000000000000 rx_sb=$cha rx_port=vm1; fi
			if [ $mode = native ]; then
				guest 1 $mode "$size" $s1
				guest 2 $mode "$size" $s2
				port "$cha" 1 $mode
				port "$chb" 2 $mode
			else
				port "$cha" 1 $mode
				port "$chb" 2 $mode
				guest 1 $mode "$size" $s1
				guest 2 $mode "$size" $s2
			fi
			up
			rp_wait_for 60 "frames out of $rx_port" flowing "$rx_sb" $rx_port || {
				dump
				rp_fail "$mode $sc ${size}B: nothing reached $rx_port's guest"
			}
			for t in $(seq 1 "$trials"); do
				window $mode $sc "$size" "$t"
			done
			# The guests must have seen only intact frames (gaps are drops,
			# which a fixed-rate run on shared CPUs may have).
			kill -TERM $g1 $g2
			for n in 1 2; do
				rc=0
				wait "$(eval echo \$g$n)" || rc=$?
				[ $rc -eq 0 ] || { cat "$work/g$n.err" >&2; rp_fail "$mode $sc ${size}B: guest $n saw damaged frames: $(cat "$work/g$n.json")"; }
			done
			stop_all
		done
	done
done

perf_report "$out" "$shared" "$check"
