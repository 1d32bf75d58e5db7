# SPDX-License-Identifier: BSD-3-Clause
# perf/lib.sh: what the benchmark scripts share (bench.sh, ovn-bench.sh).
# Source it after tests/lib/common.sh.
#
#   perf_usage SCRIPT              SCRIPT's header comment: its --help
#   perf_num PROG OPTION VALUE MIN exit 2, naming OPTION and VALUE, unless
#                                  VALUE is a whole number >= MIN

perf_usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 3 { sub(/^# ?/, ""); print }' "$1"
}

perf_num() {
	[[ $3 =~ ^[0-9]+$ ]] && [ "$3" -ge "$4" ] ||
		{ echo "$1: $2 '$3': need a number >= $4" >&2; exit 2; }
}
