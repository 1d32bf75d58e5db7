#!/usr/bin/env bash
# run-fuzzer.sh BIN [SEEDS]: runs one libFuzzer binary for
# RINGPORT_FUZZ_SECONDS (default 20) on a scratch copy of the seed corpus
# SEEDS (tests/fuzz/corpus/NAME, kept in the repo); any crash fails the
# test and leaves its input in the log. RINGPORT_FUZZ_KEEP=1 merges what
# the run found back into SEEDS (a long run, by hand).
set -euo pipefail
bin=$1
seeds=${2:-}
corpus=$(mktemp -d "${TMPDIR:-/tmp}/ringport-fuzz.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
[ -n "$seeds" ] && [ -d "$seeds" ] && cp -r "$seeds/." "$corpus/"
"$bin" -max_total_time="${RINGPORT_FUZZ_SECONDS:-20}" -print_final_stats=1 \
	-artifact_prefix="$corpus/" -rss_limit_mb=4096 "$corpus"
if [ "${RINGPORT_FUZZ_KEEP:-0}" = 1 ] && [ -n "$seeds" ]; then
	mkdir -p "$seeds"
	"$bin" -merge=1 "$seeds" "$corpus" 2>/dev/null
fi
