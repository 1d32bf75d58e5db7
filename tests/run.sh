#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tests/run.sh: README command #2. Runs every test this machine can run:
#   1. tests/setup.sh (packages, DPDK SDK headers, hugepages);
#   2. build/ (release-ish) and the unit + integration suites, then the perf
#      suite: perf/bench.sh --quick as a smoke test (sanity, never speed);
#   3. build-asan/ (-Db_sanitize=address,undefined): the 'sanitize' suite
#      (the unit tests and the two-process ipc test) again;
#   4. the libFuzzer harnesses for a bounded time, when clang is there.
# Prints meson's summaries and one closing "N passed, N failed" line; exits
# non-zero on any failure. Options: --quick (skip the sanitizer and fuzz
# passes), --fuzz-seconds N (default 20 per harness).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
quick=0
fuzz_secs=${RINGPORT_FUZZ_SECONDS:-20}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--fuzz-seconds) fuzz_secs=$2; shift 2 ;;
	-h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
done

bash tests/setup.sh

# Configure DIR with OPTIONS, or re-apply them to an existing DIR.
configure() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	meson compile -C "$dir"
}

passed=0 failed=0 skipped=0
tally() { # DIR [SETUP]: add meson's results from DIR's log (a test setup's own)
	local p f s
	read -r p f s < <(python3 - "$1/meson-logs/testlog${2:+-$2}.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
	)
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

rc=0
echo "== build/: unit and integration suites"
configure build
meson test -C build --suite unit --suite integration --print-errorlogs || rc=1
tally build
echo "== build/: perf suite (perf/bench.sh --quick --check)"
meson test -C build --suite perf --print-errorlogs || rc=1
tally build

if [ $quick -eq 0 ]; then
	echo "== build-asan/: unit suite under AddressSanitizer and UBSan"
	configure build-asan -Db_sanitize=address,undefined -Db_lundef=false
	# The 'sanitize' suite (tests/unit/ and tests/integration/meson.build:
	# the unit tests and the two-process ipc test) under the 'sanitize'
	# setup's options.
	meson test -C build-asan --setup sanitize --suite sanitize --print-errorlogs || rc=1
	tally build-asan sanitize

	if command -v clang >/dev/null; then
		echo "== build-fuzz/: libFuzzer harnesses, ${fuzz_secs}s each"
		if [ ! -f build-fuzz/build.ninja ]; then
			CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
				-Db_lundef=false >/dev/null
		fi
		meson compile -C build-fuzz
		RINGPORT_FUZZ_SECONDS=$fuzz_secs meson test -C build-fuzz --suite fuzz --print-errorlogs || rc=1
		tally build-fuzz
	else
		echo "== fuzz: skipped (clang not installed)"
	fi
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] || rc=1
exit $rc
