#!/usr/bin/env bash
# Runs one libFuzzer binary for RINGPORT_FUZZ_SECONDS (default 20) with a
# scratch corpus; any crash fails the test and leaves its input in the log.
set -euo pipefail
bin=$1
corpus=$(mktemp -d "${TMPDIR:-/tmp}/ringport-fuzz.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
exec "$bin" -max_total_time="${RINGPORT_FUZZ_SECONDS:-20}" -print_final_stats=1 \
	-artifact_prefix="$corpus/" "$corpus"
