#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ringport beside OVS's native vhost-user port and the net_null floor, in
# one run on one sandboxed OVS-DPDK, on the same CPUs:
#
#   modes      native    OVS dpdkvhostuserclient ports, testpmd virtio-user guests
#              ringport  ringport-iothread + the ringport PMD, the same guests
#                        (the PMD copies rx frames into OVS's mbufs, its default)
#              ringport-zc  the same with the PMD's zerocopy=1 (rx mbufs point
#                        into the region: trusts the VM side)
#              floor     net_null ports: OVS's own cost with no device behind
#   scenarios  g2d  guest -> OVS -> drop           (floor: net_null rx -> drop)
#              n2g  net_null -> OVS -> guest       (floor: net_null -> net_null)
#              g2g  guest -> OVS -> guest          (floor: net_null -> net_null)
#   sizes      64, 512, 1518 bytes;  queues  1 .. N queue pairs (N from the CPUs)
#
# For each configuration the processes start once, then --trials windows of
# --seconds each are measured back to back: Mpps delivered (OVS port
# counters), OVS PMD processing cycles per packet (pmd-stats-show),
# iothread busy cycles per packet per direction (ringportctl status), and
# the total: those per-stage costs summed along the path (each stage's busy
# cycles over the packets it handled; the guests are the workload, not
# counted). Medians with min..max, and the
# ratios ringport/native and ringport/floor.
#
# Output under --out (default perf/results/<date>-<host>): results.jsonl
# (every window), summary.json, summary.csv, table.md, and PNG plots when
# gnuplot is installed. Progress lines go to stderr.
#
#   perf/bench.sh [--quick] [--seconds S] [--trials N] [--sizes LIST]
#                 [--queues LIST] [--modes LIST] [--scenarios LIST] [--out DIR]
#                 [--steer LIST] [--check]
#
# --quick: 64-byte frames, 1 queue pair, 1 window of 3 s: about 2 minutes
# on 2 cores. --check: exit 1 unless every configuration forwarded packets
# and no ratio is missing (what CI asserts; speed is never asserted).
# --steer LIST: the iothreads' steering programs to compare, each in both
# directions, each a row of its own: "default" (the iothread's own default,
# rss.bpf.o: Toeplitz within the worker's queues), a program name in
# build/xdp ("rss_global": the spec's global RSS, with hand-offs between
# workers) or a path to a .bpf.o. Rows are labelled "ringport" for the
# default and "ringport:NAME" for the others. Default: "default,rss_global"
# ("default" with --quick). The guests send many flows
# (--txonly-multi-flow), so RSS has something to spread.
#
# A configuration whose stages share CPUs (fewer than 4 CPUs; or g2g where
# the B side has no CPUs of its own) is marked "shared" in every output:
# its Mpps measures the scheduler, not the code (cycles per packet still
# compare).
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"
. "$rp_top/tests/lib/ovs-sandbox.sh"
. "$rp_top/tests/lib/topo.sh"
. "$rp_top/perf/lib.sh"

secs=10 trials=3 sizes="64 512 1518" queues="" check=0 quick=0 out="" steers=""
modes="floor native ringport" scenarios="g2d n2g g2g"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 secs=3 trials=1 sizes=64 queues=1; shift ;;
	--seconds) secs=$2; shift 2 ;;
	--trials) trials=$2; shift 2 ;;
	--sizes) sizes=${2//,/ }; shift 2 ;;
	--queues) queues=${2//,/ }; shift 2 ;;
	--modes) modes=${2//,/ }; shift 2 ;;
	--scenarios) scenarios=${2//,/ }; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--check) check=1; shift ;;
	--steer) steers=${2//,/ }; shift 2 ;;
	-h | --help) perf_usage "$0"; exit 0 ;;
	*) echo "bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
perf_num bench --seconds "$secs" 1
perf_num bench --trials "$trials" 1
for s in $sizes; do
	perf_num bench --sizes "$s" 64
	[ "$s" -le 1518 ] || { echo "bench: --sizes '$s': at most 1518" >&2; exit 2; }
done
for m in $modes; do
	case $m in floor | native | ringport | ringport-zc) ;; *) echo "bench: --modes '$m': floor, native, ringport or ringport-zc" >&2; exit 2 ;; esac
done
for s in $scenarios; do
	case $s in g2d | n2g | g2g) ;; *) echo "bench: --scenarios '$s': g2d, n2g or g2g" >&2; exit 2 ;; esac
done

# CPUs: for q queue pairs, q OVS PMD cores, q iothread cores and q guest
# cores, plus CPU 0 for everything else: N = (CPUs - 1) / 3. With fewer
# CPUs everything shares (the PMD keeps CPU 1 to itself where it can).
ncpu=$(nproc)
qmax=$(((ncpu - 1) / 3))
shared=0
if [ $qmax -lt 1 ]; then
	qmax=1 shared=1
fi
if [ -z "$queues" ]; then
	queues=1
	for q in 2 4 8 16; do
		if [ $q -le $qmax ]; then queues+=" $q"; fi
	done
fi
for q in $queues; do
	perf_num bench --queues "$q" 1
	[ "$q" -le "$qmax" ] || [ $shared -eq 1 ] && [ "$q" -le 16 ] ||
		{ echo "bench: --queues $q: this machine has CPUs for up to $qmax" >&2; exit 2; }
done
cpu_list() { # FIRST COUNT -> "a,b,..."
	local i l=""
	for ((i = 0; i < $2; i++)); do l+="${l:+,}$(($1 + i))"; done
	echo "$l"
}
plan() { # Q: sets pmd_cpus, iot_cpus, guest_cpus, and the B side's for g2g
	if [ $shared -eq 1 ]; then
		pmd_cpus=$((ncpu > 1 ? 1 : 0)) iot_cpus=0 guest_cpus=0
		iot_cpus_b=0 guest_cpus_b=0
		return
	fi
	pmd_cpus=$(cpu_list 1 "$1") iot_cpus=$(cpu_list $((1 + $1)) "$1")
	guest_cpus=$(cpu_list $((1 + 2 * $1)) "$1")
	# guest -> OVS -> guest: guest B and iothread B get CPUs of their own
	# where there are enough (5q + 1), else share A's.
	if [ $((5 * $1 + 1)) -le "$ncpu" ]; then
		iot_cpus_b=$(cpu_list $((1 + 3 * $1)) "$1") guest_cpus_b=$(cpu_list $((1 + 4 * $1)) "$1")
	else
		iot_cpus_b=$iot_cpus guest_cpus_b=$guest_cpus
	fi
}

# Say which command failed: set -e alone exits without a word.
trap 'echo "bench: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
rp_need_root
rp_need_hugepages 1024
rp_need_ringport_bins
rp_need_iothread_bins
testpmd=$(command -v dpdk-testpmd) || rp_fail "dpdk-testpmd not found (package dpdk-dev)"
# --steer entries as "LABEL=PATH" ("default=" for the iothread's own).
[ -n "$steers" ] || steers=$([ $quick -eq 1 ] && echo default || echo "default rss_global")
steer_list=()
for s in $steers; do
	if [ "$s" = default ]; then
		steer_list+=("default=")
		continue
	fi
	f=$s
	[ -f "$f" ] || f=$(dirname "$iot")/../xdp/$s.bpf.o
	[ -f "$f" ] || { echo "bench: --steer '$s': no such file, nor $f" >&2; exit 2; }
	n=$(basename "$f")
	steer_list+=("${n%.bpf.o}=$(realpath "$f")")
done
steer=""
[ -n "$out" ] || out=$rp_top/perf/results/$(date +%Y%m%d)-$(hostname -s)$([ $quick -eq 1 ] && echo -quick)
mkdir -p "$out"
work=$(mktemp -d /tmp/rp-bench.XXXXXX)
rp_on_exit rm -rf "$work"
rp_it_dir "$work" # its iothreads run as the tests' unprivileged user
: >"$out/results.jsonl"

ovs_sb_start sb --plugin "$pmd"
ovs_sb_add_bridge "$sb" br0
ovs_sb_vsctl "$sb" set Open_vSwitch . other_config:vhost-sock-dir=. >/dev/null || true

# ---- per-configuration processes ---------------------------------------
stop_all() {
	local p
	perf_stop_spawned
	for p in $(ovs_sb_vsctl "$sb" list-ports br0); do
		ovs_sb_del_port "$sb" br0 "$p" || rp_log "warning: could not delete port $p" >&2
	done
}
guest_id=0
guest() { # NAME MODE(txonly|rxonly) SOCK SERVER(0|1) Q SIZE CPUS
	local cpus=$7 lc="0@${7%%,*}" i=1 c flows=""
	for c in ${cpus//,/ }; do
		[ $i -le "$5" ] || break
		lc+=",$i@$c"
		i=$((i + 1))
	done
	while [ $i -le "$5" ]; do lc+=",$i@${cpus%%,*}"; i=$((i + 1)); done
	[ "$2" = txonly ] && flows=--txonly-multi-flow
	guest_id=$((guest_id + 1))
	# A server guest binds SOCK: testpmd leaves it behind when it ends
	# before a client connected, and a later bind would fail while the
	# socket test below passed.
	[ "$4" = 1 ] && rm -f "$3"
	# --iova-mode=va: virtio-user needs it; EAL picks PA where it can read
	# physical addresses (seen on the 16-core machine). --in-memory: no
	# hugepage files, so a guest that had to be killed leaves none behind
	# (with files, each run leaked 1 GB of hugepages, and the next bench
	# found too few for its g2g guests: "nothing came out of p2").
	perf_spawn "$work/$1.log" "$testpmd" --lcores "$lc" --no-pci -m 512 --in-memory --single-file-segments \
		--iova-mode=va \
		--file-prefix "rpbench$$g$guest_id" \
		--vdev "net_virtio_user0,path=$3,server=$4,queues=$5" -- \
		--forward-mode="$2" $flows --txpkts="$6" --rxq="$5" --txq="$5" --nb-cores="$5" \
		--auto-start --stats-period 5
}
# iothread NAME Q CPUS: NIC NAME's iothread, confined as the tests' are
# (vhost socket $work/NAME-vhost.sock, port $work/NAME.sock: tests/lib/topo.sh).
iothread() {
	local prog=() p
	rm -f "$work/$1.sock" "$work/$1.sock.ctl" "$work/$1-vhost.sock"
	[ -n "$steer" ] && prog=(--steer-to-switch "$steer" --steer-to-guest "$steer")
	rp_topo_iothread p "$work" "$1" --queues "$2" --cpus "$3" \
		--poll "$([ $shared -eq 1 ] && echo adaptive || echo busy)" "${prog[@]}"
	perf_pids+=("$p")
	rp_topo_wait "$work" "$1"
}
port() { # NAME OFPORT DEVARGS Q
	ovs_sb_add_port "$sb" br0 "$1" "$3" "options:n_rxq=$4" "ofport_request=$2" ||
		rp_fail "port $1 ($3) not added"
}
vhu() { # NAME OFPORT SOCK
	ovs_sb_vsctl "$sb" add-port br0 "$1" -- set Interface "$1" type=dpdkvhostuserclient \
		"options:vhost-server-path=$3" "ofport_request=$2" >/dev/null || rp_fail "$1 not added"
}
flow() { ovs_sb_ofctl "$sb" del-flows br0; ovs_sb_ofctl "$sb" add-flow br0 "in_port=1,actions=$1"; }

# setup MODE SCENARIO SIZE Q: start what the configuration needs; sets
# in_port, out_port (where delivered packets are counted) and iots.
setup() {
	local mode=$1 sc=$2 size=$3 q=$4 n="net_null" gb_cpus=$guest_cpus ib_cpus=$iot_cpus
	iots=() in_port=p1 out_port=""
	# Guest B and iothread B: their own CPUs when both guests run (g2g).
	[ $sc = g2g ] && gb_cpus=$guest_cpus_b ib_cpus=$iot_cpus_b
	case $sc in n2g | g2g) out_port=p2 ;; esac
	if [ $sc = g2d ]; then flow drop; else flow output:2; fi
	case $mode in
	floor)
		port p1 1 "${n}0,size=$size,copy=0" "$q"
		if [ -n "$out_port" ]; then port p2 2 "${n}1,size=$size" "$q"; fi
		;;
	native)
		if [ $sc = n2g ]; then
			port p1 1 "${n}0,size=$size,copy=0" "$q"
		else
			guest ga txonly "$work/ga.sock" 1 "$q" "$size" "$guest_cpus"
			rp_wait_for 20 "guest A socket" test -S "$work/ga.sock" ||
				{ tail -n 15 "$work/ga.log" >&2; rp_fail "guest A did not start"; }
			vhu p1 1 "$work/ga.sock"
		fi
		if [ -n "$out_port" ]; then
			guest gb rxonly "$work/gb.sock" 1 "$q" "$size" "$gb_cpus"
			rp_wait_for 20 "guest B socket" test -S "$work/gb.sock" ||
				{ tail -n 15 "$work/gb.log" >&2; rp_fail "guest B did not start"; }
			vhu p2 2 "$work/gb.sock"
		fi
		;;
	ringport | ringport-zc)
		local zc=""
		[ $mode = ringport-zc ] && zc=",zerocopy=1"
		if [ $sc = n2g ]; then
			port p1 1 "${n}0,size=$size,copy=0" "$q"
		else
			iothread ia "$q" "$iot_cpus"
			iots+=("$work/ia.sock.ctl")
			guest ga txonly "$work/ia-vhost.sock" 0 "$q" "$size" "$guest_cpus"
			port p1 1 "net_ringport$((cfg_id * 2)),path=$work/ia.sock$zc" "$q"
		fi
		if [ -n "$out_port" ]; then
			iothread ib "$q" "$ib_cpus"
			iots+=("$work/ib.sock.ctl")
			guest gb rxonly "$work/ib-vhost.sock" 0 "$q" "$size" "$gb_cpus"
			port p2 2 "net_ringport$((cfg_id * 2 + 1)),path=$work/ib.sock$zc" "$q"
		fi
		;;
	esac
}

# stalled WHAT: fail, with what the configuration's processes said and the
# ports' counters (the work and sandbox directories go at exit).
stalled() {
	local f p
	for f in "$work"/*.log; do
		[ -e "$f" ] || continue
		echo "---- last 15 lines of $f ----" >&2
		tail -n 15 "$f" >&2
	done
	for p in p1 p2; do
		echo "---- $p: $(ovs_sb_vsctl "$sb" get Interface "$p" statistics link_state 2>&1 | tr '\n' ' ')" >&2
	done
	ovs_sb_log_tail "$sb" 40
	rp_fail "$1"
}

flowing() { # PORT RX|TX
	local n
	n=$(ovs_sb_port_packets "$sb" "$1" "$2") && [ -n "$n" ] && [ "$n" -gt 20000 ]
}

# iothread busy cycles and packets, per direction, summed over workers and
# over every iothread of the configuration: "c_ts p_ts c_tg p_tg"
iot_counts() {
	local c
	for c in "${iots[@]}"; do "$ctl" --ctl "$c" status; done | perf_py iot-counts
}

# window MODE SC SIZE Q TRIAL: one measurement, one JSON line.
window() {
	local i0 i1 d0 d1 stats
	i0=($(iot_counts))
	d0=$([ -n "$out_port" ] && ovs_sb_port_packets "$sb" "$out_port" TX || echo 0)
	ovs_sb_appctl "$sb" dpif-netdev/pmd-stats-clear >/dev/null
	sleep "$secs" # the measurement window, not synchronisation
	stats=$(ovs_sb_pmd_stats "$sb")
	d1=$([ -n "$out_port" ] && ovs_sb_port_packets "$sb" "$out_port" TX || echo 0)
	i1=($(iot_counts))
	local ic=$iot_cpus gc=$guest_cpus sh=$shared
	[ "$2" = g2g ] && ic="$iot_cpus+$iot_cpus_b" gc="$guest_cpus+$guest_cpus_b"
	[ "$2" = n2g ] && ic=$iot_cpus gc=$guest_cpus
	# g2g without CPUs for the B side: A and B share theirs.
	[ "$2" = g2g ] && [ "$1" != floor ] && [ "$guest_cpus_b" = "$guest_cpus" ] && sh=1
	perf_py window --mode "$1" --scenario "$2" --size "$3" --queues "$4" --trial "$5" \
		--seconds "$secs" --steer "$steer_label" --pmd-cpus "$pmd_cpus" \
		--iot-cpus "$ic" --guest-cpus "$gc" --shared "$sh" --delivered "$((d1 - d0))" \
		--iot-before "${i0[*]}" --iot-after "${i1[*]}" --pmd-stats - <<<"$stats" |
		tee -a "$out/results.jsonl" >&2
}

cfg_id=0
for q in $queues; do
	plan "$q"
	mask=0
	for c in ${pmd_cpus//,/ }; do mask=$((mask | 1 << c)); done
	ovs_sb_vsctl "$sb" set Open_vSwitch . "other_config:pmd-cpu-mask=$(printf '0x%x' $mask)" >/dev/null
	for sc in $scenarios; do
		for size in $sizes; do
			for mode_steer in $(for m in $modes; do
				if [[ $m == ringport* ]]; then
					for st in "${steer_list[@]}"; do echo "$m/$st"; done
				else
					echo "$m/"
				fi
			done); do
				mode=${mode_steer%%/*} st=${mode_steer#*/}
				steer=${st#*=}
				# the rows' label: empty for the iothread's default
				steer_label=${st%%=*}
				[ "$steer_label" = default ] && steer_label=""
				cfg_id=$((cfg_id + 1))
				where="OVS PMD on CPU $pmd_cpus"
				if [[ $mode == ringport* ]]; then where+=", iothread $iot_cpus"; fi
				if [ $mode != floor ]; then where+=", guest $guest_cpus"; fi
				if [ $sc = g2g ] && [[ $mode == ringport* ]]; then
					where+=" (B: iothread $iot_cpus_b, guest $guest_cpus_b)"
				elif [ $sc = g2g ] && [ $mode = native ]; then
					where+=" (B: guest $guest_cpus_b)"
				fi
				rp_log "$mode${steer_label:+:$steer_label} $sc ${size}B ${q}q: $where" >&2
				setup "$mode" "$sc" "$size" "$q"
				if [ -n "$out_port" ]; then
					rp_wait_for 60 "traffic out of $out_port" flowing "$out_port" TX ||
						stalled "$mode $sc ${size}B ${q}q: nothing came out of $out_port"
				else
					rp_wait_for 60 "traffic into p1" flowing p1 RX ||
						stalled "$mode $sc ${size}B ${q}q: nothing came into p1"
				fi
				for t in $(seq 1 "$trials"); do
					window "$mode" "$sc" "$size" "$q" "$t"
				done
				stop_all
			done
		done
	done
done

perf_report "$out" "$shared" "$check"
