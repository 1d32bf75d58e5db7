#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rp-peer over a real listening UNIX socket: a server serves three sessions
# (fresh region each); the first client moves 500 k frames each way, the
# second is killed with SIGKILL mid-traffic, the third must work as if
# nothing happened. Nothing may be rejected or corrupted.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

peer=${RP_PEER:-$rp_top/build/tests/rp-peer}
[ -x "$peer" ] || rp_fail "rp-peer not built at $peer"
dir=$(mktemp -d "${TMPDIR:-/tmp}/ringport-ipc-peer.XXXXXX")
rp_on_exit rm -rf "$dir"
sock=$dir/port.sock

# --linger: a session ends when the client leaves, not when our counts are met.
"$peer" --role server --path "$sock" --queues 4 --sessions 3 --send 500000 \
	--expect 500000 --linger --timeout 60 >"$dir/server.json" 2>"$dir/server.err" &
srv=$!
rp_on_exit rp_kill_pid $srv
rp_wait_for 10 "server socket $sock" test -S "$sock" || rp_fail "server did not listen"

rp_log "session 0: 500 k frames each way"
"$peer" --role client --path "$sock" --send 500000 --expect 500000 --timeout 60 \
	>"$dir/c0.json" || { cat "$dir/c0.json" "$dir/server.err" >&2; rp_fail "client 0 not clean"; }

rp_log "session 1: client killed mid-traffic"
"$peer" --role client --path "$sock" --send 100000000 --linger --timeout 60 >"$dir/c1.json" &
c1=$!
rp_on_exit rp_kill_pid $c1
# Traffic starts the moment the client has the region mapped.
rp_wait_for 10 "client 1 mapped the region" grep -q ringport-region "/proc/$c1/maps" ||
	rp_fail "client 1 never attached"
kill -9 $c1
wait $c1 2>/dev/null || true

rp_log "session 2: a new client after the kill"
"$peer" --role client --path "$sock" --send 500000 --expect 500000 --timeout 60 \
	>"$dir/c2.json" || { cat "$dir/c2.json" "$dir/server.err" >&2; rp_fail "client 2 not clean"; }

wait $srv && rc=0 || rc=$?
python3 - "$dir/server.json" <<'PY' || rp_fail "server report wrong (rc $rc)"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
assert len(s) == 3, f"{len(s)} sessions reported"
for i in (0, 2):
    assert s[i]["clean"] and s[i]["end"] == "done", s[i]
    assert s[i]["sent"] == 500000 and s[i]["received"] == 500000, s[i]
for r in s:
    assert r["bad_payload"] == 0 and r["bad_order"] == 0 and r["rejects"] == {}, r
assert s[1]["end"] == "peer-left" and not s[1]["clean"], s[1]
assert s[1]["received"] < 500000, s[1]
print("server sessions:", [(r["end"], r["received"]) for r in s])
PY
[ "$rc" -eq 1 ] || rp_fail "server exit $rc, expected 1 (session 1 was cut short)"

# Frames of up to 9018 bytes span up to five 2 KB buffers (DESC_F_MORE) in
# both directions; every one must come out whole, in order.
rp_log "jumbo: 100 k frames of 60..9018 bytes each way"
jsock=$dir/jumbo.sock
"$peer" --role server --path "$jsock" --queues 2 --send 100000 --expect 100000 \
	--frame-max 9018 --timeout 60 >"$dir/js.json" 2>"$dir/js.err" &
js=$!
rp_on_exit rp_kill_pid $js
rp_wait_for 10 "server socket $jsock" test -S "$jsock" || rp_fail "jumbo server did not listen"
"$peer" --role client --path "$jsock" --send 100000 --expect 100000 --frame-max 9018 \
	--timeout 60 >"$dir/jc.json" || { cat "$dir/jc.json" "$dir/js.err" >&2; rp_fail "jumbo client not clean"; }
wait $js || { cat "$dir/js.json" "$dir/js.err" >&2; rp_fail "jumbo server not clean"; }
python3 - "$dir/js.json" "$dir/jc.json" <<'PY' || rp_fail "jumbo report wrong"
import json, sys
for f in sys.argv[1:]:
    r = json.loads(open(f).readline())
    assert r["clean"] and r["sent"] == 100000 and r["received"] == 100000, r
    assert r["bad_payload"] == 0 and r["bad_order"] == 0, r
    # Most frames span buffers: far more bytes than 100 k one-buffer frames.
    assert r["rx_bytes"] > 100000 * 2048, r
print("jumbo: 100 k frames each way, whole and in order")
PY
echo "PASS: rp-peer sessions over a listening socket survive a killed client; jumbo frames cross whole"
