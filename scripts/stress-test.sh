#!/usr/bin/env bash
# scripts/stress-test.sh — run the test suite on a busy machine.
#
# Runs a test command N times in a row (default: ./scripts/test.sh, 3 times)
# while two CPU-bound processes run beside it, and prints each run's elapsed
# time and verdict. The hogs are started by this script, bounded in time
# (timeout), and stopped by their PIDs when it ends; nothing else is touched.
#
# Usage:
#   scripts/stress-test.sh                 # ./scripts/test.sh three times
#   scripts/stress-test.sh -n 5            # five times
#   scripts/stress-test.sh -n 5 -- go test -race -count=1 ./redisx/ ./queue/sqs/
#
# Options:
#   -n RUNS     how many runs (default 3)
#   -j HOGS     how many CPU hogs (default 2)
#   -t SECONDS  the hogs' time limit (default 3600): they stop by themselves
#               even if this script is killed
# Exit status: 0 when every run passed, 1 otherwise. Each run's output goes
# to a log in a fresh mktemp directory, named on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 hogs=2 limit=3600
while getopts "n:j:t:h" opt; do
	case "$opt" in
	n) runs=$OPTARG ;;
	j) hogs=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ "${1:-}" == "--" ]] && shift
cmd=("$@")
((${#cmd[@]})) || cmd=(./scripts/test.sh)
[[ "$runs" =~ ^[1-9][0-9]*$ && "$hogs" =~ ^[0-9]+$ && "$limit" =~ ^[1-9][0-9]*$ ]] \
	|| { echo "stress-test: -n, -j and -t take whole numbers" >&2; exit 2; }

logs="$(mktemp -d)"
hog_pids=()
stop_hogs() {
	local pid
	for pid in "${hog_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${hog_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

for ((i = 0; i < hogs; i++)); do
	# A busy loop in its own shell, killed by timeout after $limit seconds
	# at the latest. $! is timeout's PID; killing it stops the loop too.
	timeout "$limit" bash -c 'while :; do :; done' &
	hog_pids+=("$!")
done
echo "stress-test: $hogs CPU hogs (PIDs ${hog_pids[*]:-none}, at most ${limit}s); $runs runs of: ${cmd[*]}"

failed=0
for ((r = 1; r <= runs; r++)); do
	log="$logs/run-$r.log"
	start=$(date +%s)
	if "${cmd[@]}" >"$log" 2>&1; then verdict=PASS; else verdict=FAIL; failed=$((failed + 1)); fi
	el=$(($(date +%s) - start))
	printf 'stress-test: run %d/%d %s in %dm%02ds (load %s)\n' "$r" "$runs" "$verdict" $((el / 60)) $((el % 60)) \
		"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
	if [[ "$verdict" == FAIL ]]; then
		grep -E -- '^(--- FAIL|FAIL|panic:)|_test\.go:[0-9]+:' "$log" | head -20 || true
		echo "stress-test: full output in $log"
	fi
done
stop_hogs
echo "stress-test: $((runs - failed)) of $runs runs passed"
if ((failed == 0)); then
	rm -rf "$logs"
	exit 0
fi
exit 1
