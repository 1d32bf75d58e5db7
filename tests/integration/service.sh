#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# ringport installed and run as a service, as an operator would:
#  1. `meson install` into a staging root: the programs, the steering
#     programs, the PMD (in a directory neither group- nor world-writable,
#     as EAL demands of plugins), the systemd template unit, tmpfiles.d,
#     sysusers.d, the example instance file and the man pages, each where
#     systemd, man and OVS look for them;
#  2. `systemd-analyze verify` passes ringport-iothread@vm1.service (its
#     ExecStart pointed at the staged binary), and fails a copy whose
#     binary does not exist (the check can fail); systemd-tmpfiles and
#     systemd-sysusers apply the shipped files to a scratch root;
#  3. the man pages render without a groff warning, and name every option
#     the installed programs' --help names;
#  4. the staged iothread, run as the unit runs it (confined, sockets in a
#     root-owned directory as tmpfiles makes /run/ringport), finds the
#     staged rss.bpf.o by itself;
#  5. SIGKILLed (what Restart=on-failure follows), it leaves its sockets
#     behind (a confined process cannot remove them), and a new one on the
#     same paths replaces them and serves;
#  6. a second iothread on the paths of a running one exits 1 naming the
#     reason, and the running one keeps its sockets and answers;
#  7. SIGTERM: exit 0.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

rp_need_root
rp_need_hugepages 128
build=${RP_BUILD_DIR:-$rp_top/build}
[ -f "$build/build.ninja" ] || rp_fail "no build directory at $build"
d=$(mktemp -d "${TMPDIR:-/tmp}/ringport-service.XXXXXX")
rp_on_exit rm -rf "$d"
chmod 755 "$d"
stage=$d/stage

# 1. The install layout.
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >"$d/install.log" 2>&1 ||
	{ cat "$d/install.log" >&2; rp_fail "meson install failed"; }
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
p=$stage$prefix
for f in bin/ringport-iothread bin/ringportctl lib/ringport/librte_net_ringport.so \
	lib/systemd/system/ringport-iothread@.service lib/tmpfiles.d/ringport.conf \
	lib/sysusers.d/ringport.conf share/ringport/example.conf \
	share/man/man8/ringport-iothread.8 share/man/man8/ringportctl.8; do
	[ -f "$p/$f" ] || rp_fail "not installed: $prefix/$f"
done
for prog in rss rss_global steer_ring steer_port_range steer_vlan_subnet drop_policy; do
	[ -f "$p/share/ringport/$prog.bpf.o" ] || rp_fail "not installed: $prefix/share/ringport/$prog.bpf.o"
done
for b in ringport-iothread ringportctl; do
	[ -x "$p/bin/$b" ] || rp_fail "$prefix/bin/$b is not executable"
done
# EAL loads a plugin only from below directories no one else can write.
x=$p/lib/ringport/librte_net_ringport.so
while [ "$x" != "$d" ]; do
	m=$(stat -c '%a %U' "$x")
	[ "${m#* }" = root ] || rp_fail "$x is owned by ${m#* }, not root"
	[ $((0${m%% *} & 022)) -eq 0 ] || rp_fail "$x is group- or world-writable (mode ${m%% *})"
	x=$(dirname "$x")
done
rp_log "installed under $prefix: 2 programs, 6 steering programs, the PMD (root-owned, mode $(stat -c %a "$p/lib/ringport")), unit, tmpfiles, sysusers, 2 man pages"

# 2. The unit, tmpfiles and sysusers, checked by systemd's own tools.
command -v systemd-analyze >/dev/null || rp_fail "systemd-analyze not found (package systemd)"
unit=$p/lib/systemd/system/ringport-iothread@.service
grep -q "^ExecStart=$prefix/bin/ringport-iothread " "$unit" ||
	rp_fail "ExecStart does not run $prefix/bin/ringport-iothread: $(grep ExecStart "$unit")"
mkdir -p "$d/units" "$d/bad"
sed "s|^ExecStart=$prefix/|ExecStart=$p/|" "$unit" >"$d/units/ringport-iothread@vm1.service"
systemd-analyze verify --man=no "$d/units/ringport-iothread@vm1.service" >"$d/verify.log" 2>&1 ||
	{ cat "$d/verify.log" >&2; rp_fail "systemd-analyze verify refused the unit"; }
! grep -v "^$" "$d/verify.log" | grep -q . ||
	{ cat "$d/verify.log" >&2; rp_fail "systemd-analyze verify complained"; }
sed "s|^ExecStart=$prefix/bin/ringport-iothread|ExecStart=$d/no-such-iothread|" "$unit" \
	>"$d/bad/ringport-iothread@vm1.service"
if systemd-analyze verify --man=no "$d/bad/ringport-iothread@vm1.service" >"$d/verify-bad.log" 2>&1; then
	rp_fail "systemd-analyze verify passed a unit whose binary does not exist"
fi
root=$d/root
mkdir -p "$root/etc"
systemd-tmpfiles --create --root="$root" "$p/lib/tmpfiles.d/ringport.conf" ||
	rp_fail "systemd-tmpfiles refused ringport.conf"
[ "$(stat -c '%a %U' "$root/run/ringport")" = "755 root" ] ||
	rp_fail "tmpfiles made /run/ringport $(stat -c '%a %U' "$root/run/ringport"), want 755 root"
systemd-sysusers --root="$root" "$p/lib/sysusers.d/ringport.conf" >/dev/null 2>&1 ||
	rp_fail "systemd-sysusers refused ringport.conf"
grep -q '^ringport:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' "$root/etc/passwd" ||
	rp_fail "sysusers made no ringport user: $(cat "$root/etc/passwd")"
rp_log "systemd-analyze verify: the unit passes, a unit with a missing binary fails; tmpfiles and sysusers apply"

# 3. Man pages: clean, and in step with --help.
for prog in ringport-iothread ringportctl; do
	man=$p/share/man/man8/$prog.8
	w=$(groff -man -Tutf8 -ww -z "$man" 2>&1) || rp_fail "groff failed on $prog.8"
	[ -z "$w" ] || rp_fail "groff warns on $prog.8: $w"
	opts=$("$p/bin/$prog" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ] || rp_fail "$prog --help names no option"
	for o in $opts; do
		grep -qF -- "${o//-/\\-}" "$man" || rp_fail "$prog.8 does not document $o"
	done
done
rp_log "man pages: no groff warning; every --help option documented"

# 4. The staged iothread, run as the unit runs it.
run=$root/run/ringport # root-owned 0755, as tmpfiles made it
iot=$p/bin/ringport-iothread ctl=$p/bin/ringportctl
user=${RINGPORT_IT_USER:-nobody}
start() { # LOG: an iothread on vm1's paths; sets it_pid
	"$iot" --vhost "$run/vm1-vhost.sock" --port "$run/vm1.sock" --user "$user" \
		--seccomp kill --cpus 1 --poll adaptive >"$1" 2>&1 &
	it_pid=$!
	rp_on_exit rp_kill_pid $it_pid
}
answers() { "$ctl" --ctl "$run/vm1.sock.ctl" status >"$d/status.json" 2>/dev/null; }
start "$d/it1.log"
rp_wait_for 30 "control socket" answers || { cat "$d/it1.log" >&2; rp_fail "the staged iothread did not start"; }
prog=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["steering"]["to_switch"]["program"])' "$d/status.json")
[ "$(realpath "$prog")" = "$(realpath "$p/share/ringport/rss.bpf.o")" ] ||
	rp_fail "the staged iothread steers with '$prog', not the staged rss.bpf.o"
rp_log "staged iothread $it_pid (user $user) steers with $prefix/share/ringport/rss.bpf.o"

# 5. Killed: its sockets stay; a new one replaces them.
kill -KILL $it_pid
wait $it_pid 2>/dev/null || true
for s in vm1-vhost.sock vm1.sock vm1.sock.ctl; do
	[ -S "$run/$s" ] || rp_fail "$s did not outlive the killed iothread (the case is not exercised)"
done
start "$d/it2.log"
rp_wait_for 30 "control socket" answers ||
	{ cat "$d/it2.log" >&2; rp_fail "a new iothread could not take the paths a killed one left"; }
kill -0 $it_pid 2>/dev/null || { cat "$d/it2.log" >&2; rp_fail "the new iothread exited"; }
rp_log "after SIGKILL: the sockets stayed, and a new iothread took them over"

# 6. A second one on the same paths: refused, named; the first unharmed.
ino() { stat -c %i "$run/vm1-vhost.sock" "$run/vm1.sock" "$run/vm1.sock.ctl" | tr '\n' ' '; }
before=$(ino)
first=$it_pid
start "$d/it3.log"
rc=0
rp_wait_for 30 "the second iothread to exit" bash -c "! kill -0 $it_pid 2>/dev/null" ||
	rp_fail "a second iothread on the same paths kept running"
wait $it_pid || rc=$?
[ $rc -eq 1 ] || { cat "$d/it3.log" >&2; rp_fail "the second iothread exited $rc, want 1"; }
grep -q "another process listens on it" "$d/it3.log" ||
	{ cat "$d/it3.log" >&2; rp_fail "the second iothread did not say why"; }
[ "$(ino)" = "$before" ] || rp_fail "the second iothread replaced the first one's sockets"
answers || rp_fail "the first iothread stopped answering"
rp_log "a second iothread on the same paths: exit 1, '$(grep -o -- '--vhost [^ ]*: another process listens on it' "$d/it3.log" | head -1)'; the first still answers"

# 7. SIGTERM.
kill -TERM $first
rc=0
wait $first || rc=$?
[ $rc -eq 0 ] || rp_fail "SIGTERM: exit $rc, want 0"
rp_log "PASS: installed layout, units, man pages, restart after SIGKILL, second instance refused"
