# SPDX-License-Identifier: BSD-3-Clause
# perf/lib.sh: what the benchmark scripts share. They start and stop
# processes; the arithmetic is perf/rpbench's (Python), run through perf_py.
# Source it after tests/lib/common.sh.
#
#   perf_usage SCRIPT              SCRIPT's header comment: its --help
#   perf_num PROG OPTION VALUE MIN exit 2, naming OPTION and VALUE, unless
#                                  VALUE is a whole number >= MIN
#   perf_spawn LOG CMD...          CMD in the background, output to LOG; its
#                                  pid in perf_pids (and ended at exit)
#   perf_stop_spawned              end every pid in perf_pids, by pid
#   perf_py COMMAND ARGS...        python3 -m rpbench (perf/rpbench: every
#                                  figure, row, summary and table)
#   perf_report OUT SHARED CHECK   rpbench report over OUT/results.jsonl
#                                  (summary, table, plots); with CHECK 1,
#                                  exit 1 unless every row is complete

perf_usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$1"
}

perf_num() {
	[[ $3 =~ ^[0-9]+$ ]] && [ "$3" -ge "$4" ] ||
		{ echo "$1: $2 '$3': need a number >= $4" >&2; exit 2; }
}

perf_pids=()
perf_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	perf_pids+=($!)
	rp_on_exit rp_kill_pid $!
}

perf_stop_spawned() {
	local p
	for p in "${perf_pids[@]}"; do rp_kill_pid "$p" || true; done
	perf_pids=()
}

perf_py() {
	PYTHONPATH="$rp_top/perf${PYTHONPATH:+:$PYTHONPATH}" python3 -m rpbench "$@"
}

perf_report() {
	perf_py report "$1" --shared "$2" --ncpu "$(nproc)" \
		$([ "$3" -eq 1 ] && echo --check) || exit 1
	rp_log "results: $1" >&2
}
