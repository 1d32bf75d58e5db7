# SPDX-License-Identifier: BSD-3-Clause
# tests/lib/ovs-sandbox.sh: a private OVS-DPDK (Debian's unpatched
# ovs-vswitchd-dpdk) for tests, benchmarks and the quick start.
# Source tests/lib/common.sh first.
#
# A sandbox is a directory; every helper takes it as its first argument, so
# one shell can run several sandboxes at once. Each has its own ovsdb-server,
# OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR, EAL --file-prefix, plugin directory and
# network namespace (for the netdev datapath's tap devices).
# Cleanup runs from the EXIT trap of common.sh and kills only the pids the
# sandbox started.
#
#   ovs_sb_start VAR [--plugin SO] [--eal ARGS] [--pmd-mask HEX]
#                [--other-config KEY=VALUE]... [--timeout S] [--netns NS]
#                                       start one; its directory goes in VAR
#                                       (other_config keys are set before
#                                       ovs-vswitchd starts: e.g.
#                                       userspace-tso-enable=true;
#                                       --netns: ovs-vswitchd runs in the
#                                       named network namespace NS, which
#                                       the caller made, instead of one of
#                                       its own)
#   ovs_sb_stop DIR                     stop it (idempotent)
#   ovs_sb_sweep                        end what killed tests' sandboxes left
#                                       (ovs_sb_start and ovn_central_start
#                                       call it)
#   ovs_sb_restart DIR [KILL|TERM]      restart ovs-vswitchd on the same database
#   ovs_sb_vsctl DIR ARGS...            ovs-vsctl against it
#   ovs_sb_ofctl DIR ARGS...            ovs-ofctl against its bridges
#   ovs_sb_appctl DIR ARGS...           ovs-appctl -t <dir>/ovs-vswitchd-dpdk.<pid>.ctl
#   ovs_sb_add_bridge DIR BR            bridge with datapath_type=netdev
#   ovs_sb_add_port DIR BR PORT DEVARGS [COLUMN=VALUE...]
#                                       dpdk port; fails with OVS's error text
#   ovs_sb_del_port DIR BR PORT
#   ovs_sb_iface_stat DIR PORT NAME     one Interface statistics counter
#   ovs_sb_link_up DIR PORT             the port's link is up
#   ovs_sb_stat_is DIR PORT NAME VALUE  that counter is VALUE now (poll it)
#   ovs_sb_pmd_stats DIR                dpif-netdev/pmd-stats-show summed over
#                                       PMD threads, as "key value" lines
#   ovs_sb_port_packets DIR PORT RX|TX  live packet count from dpctl/show -s
#   ovs_sb_stats_fresh DIR PORT...      the database's statistics caught up
#                                       with the live counters (poll it)
#   ovs_sb_pid DIR                      ovs-vswitchd's pid
#   ovs_sb_log_tail DIR [N]             last N lines of the vswitchd log

ovs_sb_root=${RINGPORT_SANDBOX_ROOT:-/run/ringport}
ovs_sb_vswitchd=${RINGPORT_OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
ovs_sb_schema=${RINGPORT_OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}

ovs_sb_env() {
	local dir=$1
	shift
	OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir "$@"
}

ovs_sb_pid() {
	cat "$1/ovs-vswitchd.pid" 2>/dev/null
}

ovs_sb_vsctl() {
	local dir=$1
	shift
	ovs_sb_env "$dir" ovs-vsctl --db="unix:$dir/db.sock" --timeout=60 "$@"
}

ovs_sb_ofctl() {
	local dir=$1
	shift
	ovs_sb_env "$dir" ovs-ofctl "$@"
}

ovs_sb_appctl() {
	local dir=$1 pid
	shift
	pid=$(ovs_sb_pid "$dir") || { echo "sandbox $dir: no ovs-vswitchd pid" >&2; return 1; }
	ovs_sb_env "$dir" ovs-appctl --timeout=60 -t "$dir/ovs-vswitchd-dpdk.$pid.ctl" "$@"
}

ovs_sb_log_tail() {
	echo "---- last ${2:-30} lines of $1/ovs-vswitchd.log ----" >&2
	tail -n "${2:-30}" "$1/ovs-vswitchd.log" >&2 2>/dev/null || true
	echo "----" >&2
}

# ovs_sb_vswitchd_up DIR [TIMEOUT]: start ovs-vswitchd-dpdk on the
# sandbox's database and wait until DPDK is up and its control socket is.
ovs_sb_vswitchd_up() {
	local dir=$1 timeout=${2:-90} pid
	rm -f "$dir/ovs-vswitchd.pid"
	# The netdev datapath creates tap devices (ovs-netdev, one per bridge)
	# that would clash between sandboxes and outlive a killed daemon: give
	# ovs-vswitchd a network namespace of its own, gone when it exits, or
	# the one the caller named (--netns), where its underlay is.
	local ns=(unshare --net --)
	[ -f "$dir/netns" ] && ns=(ip netns exec "$(cat "$dir/netns")")
	if ! ovs_sb_env "$dir" "${ns[@]}" "$ovs_sb_vswitchd" "unix:$dir/db.sock" \
		--pidfile="$dir/ovs-vswitchd.pid" --log-file="$dir/ovs-vswitchd.log" \
		--detach --no-chdir -vconsole:off 2>>"$dir/start.err"; then
		cat "$dir/start.err" >&2
		echo "ovs_sb_start: ovs-vswitchd-dpdk failed to start" >&2
		ovs_sb_log_tail "$dir"
		return 1
	fi
	pid=$(ovs_sb_pid "$dir")
	if ! ovs_sb_vsctl "$dir" --timeout="$timeout" wait-until Open_vSwitch . dpdk_initialized=true >/dev/null ||
		! kill -0 "$pid" 2>/dev/null; then
		echo "ovs_sb_start: DPDK did not initialise within ${timeout}s (pid $pid)" >&2
		ovs_sb_log_tail "$dir"
		return 1
	fi
	rp_wait_for 30 "ovs-vswitchd control socket" test -S "$dir/ovs-vswitchd-dpdk.$pid.ctl" ||
		{ ovs_sb_log_tail "$dir"; return 1; }
}

# ovs_sb_restart DIR [KILL|TERM]: stop ovs-vswitchd (SIGKILL: a crash) and
# start it again on the same database; ports and flows come back from it.
ovs_sb_restart() {
	local dir=$1 sig=${2:-TERM} pid i
	pid=$(ovs_sb_pid "$dir")
	if [ "$sig" = KILL ]; then
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	else
		rp_kill_pid "$pid" 20
	fi
	# The database says DPDK is up until the new daemon says otherwise.
	ovs_sb_vsctl "$dir" --no-wait set Open_vSwitch . dpdk_initialized=false 2>/dev/null || true
	ovs_sb_vswitchd_up "$dir"
}

# ovs_sb_claim DIR: DIR is this test's: its pid and that process's start
# time, which together name it for good (a pid alone can be reused).
ovs_sb_claim() {
	echo "$$ $(rp_pid_start $$)" >"$1/owner"
}

# ovs_sb_sweep: what sandboxes (and OVN centrals) of killed tests left.
# meson, on a timeout, sends SIGTERM to a test's process group and SIGKILL
# half a second later, cutting its EXIT trap short; the daemons detached
# from that group (setsid) and live on, holding hugepages. Only a
# directory whose owner (ovs_sb_claim) is gone is touched, and in it only
# the pids its pidfiles name whose command line names the directory.
ovs_sb_sweep() {
	local d owner start f pid
	for d in "$ovs_sb_root"/sb.* "$ovs_sb_root"/ovn.*; do
		[ -f "$d/owner" ] || continue
		read -r owner start <"$d/owner" || continue
		[ -n "$start" ] && [ "$(rp_pid_start "$owner")" = "$start" ] && continue
		# Alphabetical: ovn-controller, then ovs-vswitchd before its database.
		for f in "$d"/*.pid; do
			[ -f "$f" ] || continue
			pid=$(cat "$f")
			[[ $pid =~ ^[0-9]+$ ]] || continue
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$d/" &&
				rp_kill_pid "$pid" 5
		done
		if [ -f "$d/netns" ]; then
			ip netns del "$(cat "$d/netns")" 2>/dev/null || true
		fi
		echo "swept $d: left by pid $owner, which is gone" >&2
		rm -rf "$d"
	done
	return 0
}

ovs_sb_stop() {
	local dir=$1 f
	[ -d "$dir" ] || return 0
	# ovs-vswitchd first, so that it never runs without its database.
	for f in ovs-vswitchd.pid ovsdb-server.pid; do
		[ -f "$dir/$f" ] && rp_kill_pid "$(cat "$dir/$f")" 20
	done
	if [ -n "${RINGPORT_KEEP_SANDBOX:-}" ]; then
		rm -f "$dir/owner" # kept: not for a sweep either
		echo "sandbox kept in $dir (RINGPORT_KEEP_SANDBOX)" >&2
	else
		rm -rf "$dir"
	fi
}

ovs_sb_start() {
	local var=$1 plugin="" eal="" pmd_mask="" timeout=90 dir id extra pid oc=() netns=
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--plugin) plugin=$2; shift 2 ;;
		--other-config) oc+=("other_config:$2"); shift 2 ;;
		--eal) eal=$2; shift 2 ;;
		--pmd-mask) pmd_mask=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--netns) netns=$2; shift 2 ;;
		*) echo "ovs_sb_start: unknown option '$1'" >&2; return 2 ;;
		esac
	done
	[ -x "$ovs_sb_vswitchd" ] || { echo "ovs_sb_start: $ovs_sb_vswitchd not found (install openvswitch-switch-dpdk)" >&2; return 1; }

	# EAL refuses plugins below a group/world-writable directory (it checks
	# every parent), so the sandbox lives under a root-owned 0755 tree.
	mkdir -p -m 0755 "$ovs_sb_root" || return 1
	ovs_sb_sweep
	dir=$(mktemp -d "$ovs_sb_root/sb.XXXXXX") || return 1
	chmod 0755 "$dir"
	rp_on_exit ovs_sb_stop "$dir"
	ovs_sb_claim "$dir"
	id=${dir##*.}
	[ -n "$netns" ] && echo "$netns" >"$dir/netns"

	# --no-pci: a sandbox never touches the host's devices.
	extra="--file-prefix=rpsb$id --no-pci"
	if [ -n "$plugin" ]; then
		[ -f "$plugin" ] || { echo "ovs_sb_start: plugin '$plugin' not found" >&2; return 1; }
		install -d -m 0755 "$dir/plugins"
		install -m 0644 "$plugin" "$dir/plugins/"
		extra+=" -d $dir/plugins/$(basename "$plugin")"
	fi
	[ -n "$eal" ] && extra+=" $eal"

	ovs_sb_env "$dir" ovsdb-tool create "$dir/conf.db" "$ovs_sb_schema" || return 1
	ovs_sb_env "$dir" ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" \
		--pidfile="$dir/ovsdb-server.pid" --log-file="$dir/ovsdb-server.log" \
		--unixctl="$dir/ovsdb-server.ctl" --detach --no-chdir -vconsole:off \
		2>>"$dir/start.err" ||
		{ echo "ovs_sb_start: ovsdb-server failed to start" >&2; tail -n 20 "$dir/ovsdb-server.log" >&2; return 1; }

	ovs_sb_vsctl "$dir" --no-wait -- init -- set Open_vSwitch . \
		other_config:dpdk-init=true \
		"other_config:dpdk-extra=\"$extra\"" "${oc[@]}" || return 1
	if [ -n "$pmd_mask" ]; then
		ovs_sb_vsctl "$dir" --no-wait set Open_vSwitch . other_config:pmd-cpu-mask="$pmd_mask" || return 1
	fi

	ovs_sb_vswitchd_up "$dir" "$timeout" || return 1
	printf -v "$var" '%s' "$dir"
}

ovs_sb_add_bridge() {
	ovs_sb_vsctl "$1" add-br "$2" -- set Bridge "$2" datapath_type=netdev
}

ovs_sb_add_port() {
	local dir=$1 br=$2 port=$3 devargs=$4 ofport err
	shift 4
	local sets=()
	for kv in "$@"; do sets+=("$kv"); done
	if ! ovs_sb_vsctl "$dir" add-port "$br" "$port" -- set Interface "$port" type=dpdk \
		"options:dpdk-devargs=$devargs" "${sets[@]}"; then
		echo "ovs_sb_add_port: $port ($devargs): ovs-vsctl failed" >&2
		ovs_sb_log_tail "$dir" 15
		return 1
	fi
	ofport=$(ovs_sb_vsctl "$dir" get Interface "$port" ofport)
	if [ "$ofport" = "-1" ] || [ "$ofport" = "[]" ]; then
		err=$(ovs_sb_vsctl "$dir" get Interface "$port" error)
		echo "ovs_sb_add_port: $port ($devargs) not added: $err" >&2
		ovs_sb_log_tail "$dir" 15
		return 1
	fi
}

ovs_sb_del_port() {
	ovs_sb_vsctl "$1" del-port "$2" "$3"
}

# ovs_sb_link_up DIR PORT: PORT's link is up (for rp_wait_for).
ovs_sb_link_up() {
	[ "$(ovs_sb_vsctl "$1" get Interface "$2" link_state)" = "up" ]
}

# ovs_sb_stat_is DIR PORT KEY VALUE: PORT's statistics:KEY is VALUE now.
# The database's statistics are refreshed every few seconds: poll this.
ovs_sb_stat_is() {
	[ "$(ovs_sb_iface_stat "$1" "$2" "$3" 2>/dev/null)" = "$4" ]
}

ovs_sb_iface_stat() {
	ovs_sb_vsctl "$1" get Interface "$2" "statistics:$3"
}

# ovs_sb_port_packets DIR PORT RX|TX: the port's packet count, live from the
# datapath (the database's statistics lag by seconds).
ovs_sb_port_packets() {
	ovs_sb_appctl "$1" dpctl/show -s | awk -v p="$2" -v d="$3" '
		$0 ~ "port [0-9]+: " p " " { f = 1; next }
		f && $0 ~ d " packets" { sub(".*" d " packets:", ""); sub(/ .*/, ""); print; exit }'
}

# ovs_sb_stats_fresh DIR PORT...: the database's statistics of every PORT
# have caught up with the live counters (packets both ways). ovs-vswitchd
# copies them into the database every 5 s at best, later when its main
# thread is short of CPU: poll this before reading counters (drops, say)
# from the database after traffic stopped.
ovs_sb_stats_fresh() {
	local dir=$1 p d
	shift
	for p in "$@"; do
		for d in RX TX; do
			[ "$(ovs_sb_port_packets "$dir" "$p" $d)" = \
				"$(ovs_sb_iface_stat "$dir" "$p" "${d,,}_packets" 2>/dev/null)" ] || return 1
		done
	done
}

# Sums every numeric "key: value" line of pmd-stats-show over the PMD
# threads (the "main thread" block is left out). Keys get spaces and dots
# turned into underscores: "packets received: 12" -> "packets_received 12".
# Averages ("avg. ...") are not summable and are left out: derive them from
# the sums (processing_cycles / packets_received).

ovs_sb_pmd_stats() {
	ovs_sb_appctl "$1" dpif-netdev/pmd-stats-show | awk '
		/^pmd thread/ { pmd = 1; next }
		/^main thread/ { pmd = 0; next }
		pmd && /:/ && !/^[ \t]*avg/ {
			key = $0; sub(/:.*/, "", key); sub(/^[ \t]+/, "", key)
			gsub(/[ .]+/, "_", key); gsub(/_+$/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t(].*/, "", val)
			if (val ~ /^[0-9.]+$/) { sum[key] += val; seen[key] = 1 }
		}
		END { for (k in seen) printf "%s %.0f\n", k, sum[k] }' | sort
}
