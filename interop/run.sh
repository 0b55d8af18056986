#!/usr/bin/env bash
# Interop test: the Node AWS SDK v3 (@aws-sdk/client-connect, from npm) and
# boto3 (the machine's Python) against `tollgate sim`. Each client calls three
# operations, sees ThrottlingException with its retries off, and succeeds with
# them on. Exits non-zero on any failure; always stops the simulator.
#
# Usage: interop/run.sh            (from anywhere; needs go, node, npm, python3 + boto3)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
SIM_PID=""
cleanup() {
	if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "interop: $*" >&2; echo "interop: 0 passed, 1 failed"; exit 1; }

command -v go >/dev/null || fail "go is not installed"
command -v node >/dev/null || fail "node is not installed"
command -v npm >/dev/null || fail "npm is not installed"
command -v python3 >/dev/null || fail "python3 is not installed"
python3 -c "import boto3" 2>/dev/null || fail "boto3 is not importable by $(command -v python3)"

# npm ci installs exactly what package-lock.json pins and never rewrites it;
# a lockfile out of step with package.json is an error to fix, not to paper
# over with npm install.
echo "interop: installing @aws-sdk/client-connect (npm ci)"
(cd "$ROOT/interop/node" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 \
	|| { cat "$WORK/npm.log" >&2; fail "npm ci failed (is interop/node/package-lock.json in step with package.json?)"; }

echo "interop: building tollgate"
(cd "$ROOT" && go build -o "$WORK/tollgate" ./cmd/tollgate) || fail "go build failed"

# ListQueues gets 1 request/s, burst 1, so a second call in a row is throttled.
"$WORK/tollgate" sim --addr 127.0.0.1:0 --quiet --seed 1 --quota ListQueues=1:1 >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
SIM_URL=""
for _ in $(seq 1 100); do
	SIM_URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/sim.log" | head -1 || true)"
	[[ -n "$SIM_URL" ]] && break
	kill -0 "$SIM_PID" 2>/dev/null || { cat "$WORK/sim.log" >&2; fail "tollgate sim exited"; }
	sleep 0.1
done
[[ -n "$SIM_URL" ]] || { cat "$WORK/sim.log" >&2; fail "tollgate sim did not start"; }
export SIM_URL SIM_INSTANCE="c0ffee00-0000-4000-8000-000000000001"
echo "interop: tollgate sim at $SIM_URL"

PASSED=0
FAILED=0
tally() { # reads "<name>: N passed, M failed" from a log
	local line
	line="$(grep -E '^[a-z0-9]+: [0-9]+ passed, [0-9]+ failed$' "$1" | tail -1 || true)"
	if [[ -z "$line" ]]; then FAILED=$((FAILED + 1)); return; fi
	PASSED=$((PASSED + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
	FAILED=$((FAILED + $(sed -E 's/.*passed, ([0-9]+) failed/\1/' <<<"$line")))
}

# NODE_NO_WARNINGS hides the SDK's "Node >= 22 from 2027" notice.
(cd "$ROOT/interop/node" && NODE_NO_WARNINGS=1 node interop.mjs) 2>&1 | tee "$WORK/node.log" || true
tally "$WORK/node.log"
python3 "$ROOT/interop/boto3_test.py" 2>&1 | tee "$WORK/boto3.log" || true
tally "$WORK/boto3.log"

# The simulator saw both callers, throttled, by their access keys.
if python3 - "$SIM_URL" <<'PY'
import json, sys, urllib.request
st = json.load(urllib.request.urlopen(sys.argv[1] + "/_sim/stats"))
ok = True
for key in ("AKIDNODEINTEROP", "AKIDBOTO3INTEROP"):
    c = st["callers"].get(key, {})
    good = c.get("accepted", 0) >= 3 and c.get("throttled_by_code", {}).get("ThrottlingException", 0) >= 2
    print(("ok  " if good else "FAIL") + f" stats {key}: accepted {c.get('accepted', 0)}, throttled {c.get('throttled_by_code', {})}")
    ok = ok and good
sys.exit(0 if ok else 1)
PY
then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi

echo "interop: $PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 && "$PASSED" -gt 0 ]]
