#!/usr/bin/env bash
# Side-by-side run for `tollgate gateway`: 8 Node (SDK v3 + ConfiguredRetryStrategy)
# and 8 Python (boto3 adaptive + full-jitter wrapper) processes, each running
# JOBS jobs of StartOutboundVoiceContact + ListQueues against `tollgate sim`,
# first directly, then through the gateway — the workers changed only in
# endpoint and keys. Prints, for each mode: successes, 429s at the simulator
# (÷ successes), completion time ÷ the lower bound (from the common start, and
# from the first success: the SDKs load lazily on their first call, seconds on a
# busy machine), fairness (max ÷ min successes per process when the first
# process finishes), each language's first success and the gateway's answers
# by class. Exits non-zero when the gateway run misses a target (429s ≤ 1%,
# completion from the common start ≤ 1.1× lower bound, fairness ≤ 1.2).
#
# Usage: interop/gateway_side_by_side.sh   (env: JOBS=10 SCALE=5 PROCS=8 TIMEOUT=180,
#        KEEP=1 keeps the work directory: workers' JSON, the gateway's /metrics)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
JOBS="${JOBS:-10}" SCALE="${SCALE:-5}" PROCS="${PROCS:-8}" TIMEOUT="${TIMEOUT:-180}"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n "${KEEP:-}" ]]; then echo "side-by-side: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "side-by-side: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed"
python3 -c "import boto3" 2>/dev/null || fail "boto3 is not importable by $(command -v python3)"
(cd "$ROOT/interop/node" && [[ -d node_modules/@aws-sdk/client-connect ]] || npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || fail "npm ci failed"
(cd "$ROOT" && go build -o "$WORK/tollgate" ./cmd/tollgate) || fail "go build failed"

wait_url() { # file pid
	for _ in $(seq 1 200); do
		local u
		u="$(grep -o 'https\?://127\.0\.0\.1:[0-9]*' "$1" | head -1 || true)"
		[[ -n "$u" ]] && { echo "$u"; return; }
		kill -0 "$2" 2>/dev/null || { cat "$1" >&2; fail "process exited"; }
		sleep 0.1
	done
	fail "no URL in $1"
}

"$WORK/tollgate" sim --addr 127.0.0.1:0 --quiet --seed 1 --rate-scale "$SCALE" >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
SIM_URL="$(wait_url "$WORK/sim.log" "${PIDS[-1]}")"

# callers.yaml: one key per process, a secret inline, so mode 0600.
{
	echo "callers:"
	for i in $(seq 1 "$PROCS"); do
		for lang in PY NODE; do
			printf '  - access_key_id: AKID%s%0*d\n    secret: "secret-%s-%d"\n    principal: %s-%d\n    operations: [StartOutboundVoiceContact, ListQueues]\n    share: 1\n' \
				"$lang" $((16 - ${#lang})) "$i" "$lang" "$i" "${lang,,}" "$i"
		done
	done
} >"$WORK/callers.yaml"
chmod 600 "$WORK/callers.yaml"

# The gateway's /metrics needs its token (serve's rule): generated in --data-dir.
AWS_ACCESS_KEY_ID=AKIDGATEWAYSIDEBYSIDE AWS_SECRET_ACCESS_KEY=gateway-secret AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$WORK/tollgate" gateway --listen 127.0.0.1:0 --quiet --region us-east-1 --upstream "$SIM_URL" \
	--callers "$WORK/callers.yaml" --rate-scale "$SCALE" --data-dir "$WORK/data" >"$WORK/gw.log" 2>&1 &
PIDS+=($!)
GW_URL="$(wait_url "$WORK/gw.log" "${PIDS[-1]}")"
echo "side-by-side: sim $SIM_URL, gateway $GW_URL, $PROCS Node + $PROCS Python processes × $JOBS jobs, rate scale $SCALE"

run() { # mode endpoint
	local mode="$1" endpoint="$2" start wpids=()
	mkdir -p "$WORK/$mode/ready"
	for i in $(seq 1 "$PROCS"); do
		local common=(ENDPOINT="$endpoint" INSTANCE=c0ffee00-0000-4000-8000-000000000001 FLOW=c0ffee00-0000-4000-8000-0000000000f1 JOBS="$JOBS" START_FILE="$WORK/$mode/start")
		env "${common[@]}" NAME="py-$i" READY_FILE="$WORK/$mode/ready/py-$i" KEY="$(printf 'AKIDPY%014d' "$i")" SECRET="secret-PY-$i" \
			timeout "$TIMEOUT" python3 "$ROOT/interop/gateway_worker.py" >"$WORK/$mode/py-$i.json" 2>"$WORK/$mode/py-$i.err" &
		wpids+=($!)
		env "${common[@]}" NAME="node-$i" READY_FILE="$WORK/$mode/ready/node-$i" KEY="$(printf 'AKIDNODE%012d' "$i")" SECRET="secret-NODE-$i" NODE_NO_WARNINGS=1 \
			timeout "$TIMEOUT" node "$ROOT/interop/node/gateway_worker.mjs" >"$WORK/$mode/node-$i.json" 2>"$WORK/$mode/node-$i.err" &
		wpids+=($!)
	done
	# Start together once every process has imported its SDK (slow on a busy machine).
	for _ in $(seq 1 1200); do
		[[ "$(find "$WORK/$mode/ready" -type f | wc -l)" -ge $((2 * PROCS)) ]] && break
		sleep 0.1
	done
	curl -fsS -X POST "$SIM_URL/_sim/stats/reset" >/dev/null
	start="$(python3 -c 'import time; print(time.time() + 0.5)')"
	echo "$start" >"$WORK/$mode/start.tmp" && mv "$WORK/$mode/start.tmp" "$WORK/$mode/start"
	for p in "${wpids[@]}"; do wait "$p" || true; done
	curl -fsS "$SIM_URL/_sim/stats?last=1" >"$WORK/$mode/stats.json"
	curl -fsS "$SIM_URL/_sim/quotas" >"$WORK/$mode/quotas.json"
}

run gateway "$GW_URL"
curl -fsS -H "Authorization: Bearer $(cat "$WORK/data/token")" "$GW_URL/metrics" >"$WORK/gateway/metrics.txt"
sleep 8 # let the simulator's buckets refill
run direct "$SIM_URL"

python3 - "$WORK" "$PROCS" "$JOBS" <<'PY'
import glob, json, sys
work, procs, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows, ok_all = {}, True
for mode in ("direct", "gateway"):
    res = []
    for f in sorted(glob.glob(f"{work}/{mode}/*.json")):
        if f.endswith(("stats.json", "quotas.json")) or "/ready/" in f:
            continue
        try:
            res.append(json.load(open(f)))
        except Exception:
            res.append({"name": f, "ok": [], "failures": 2 * jobs, "end": float("inf")})  # timed out
    start = float(open(f"{work}/{mode}/start").read())
    st = json.load(open(f"{work}/{mode}/stats.json"))
    qs = json.load(open(f"{work}/{mode}/quotas.json"))
    qs = qs if isinstance(qs, list) else qs.get("quotas", qs)
    q = {x["op"]: x for x in qs}
    n = len(res) * jobs
    lower = max(max(0, n - q[op]["burst"]) / q[op]["rate"] for op in ("StartOutboundVoiceContact", "ListQueues"))
    succ = sum(len(r["ok"]) for r in res)
    fails = sum(r["failures"] for r in res)
    throttled = st["totals"]["throttled"]
    end = max(r["end"] for r in res)
    # The clients' SDKs load lazily on their first call (seconds on a busy
    # machine, before any request is sent): completion is also given from
    # the first success anywhere, which the gateway cannot move.
    first_ok = min((r["ok"][0] for r in res if r["ok"]), default=start)
    first = min(r["end"] for r in res)
    at_first = [sum(1 for t in r["ok"] if t <= first) for r in res]
    fairness = max(at_first) / max(1, min(at_first))
    print(f"{mode}: successes per process when the first finished ({first - start:.1f}s): " +
          " ".join(f"{r['name']}={c}" for r, c in sorted(zip(res, at_first), key=lambda x: x[1])))
    firsts = {lang: [r["ok"][0] - start for r in res if r["ok"] and r["name"].startswith(lang)] for lang in ("py", "node")}
    print(f"{mode}: first success after the start: " + ", ".join(
        f"{lang} {min(v):.1f}-{max(v):.1f}s" for lang, v in firsts.items() if v))
    rows[mode] = dict(processes=len(res), successes=succ, failures=fails, sim_429=throttled,
                      ratio_429=throttled / max(1, succ), completion_s=end - start, lower_bound_s=lower,
                      completion_x=(end - start) / lower if lower else float("inf"), fairness=fairness,
                      from_first_s=end - first_ok, from_first_x=(end - first_ok) / lower if lower else float("inf"))
for mode, r in rows.items():
    print(f"{mode:8s} processes {r['processes']:2d}  successes {r['successes']:4d}  failures {r['failures']:3d}  "
          f"429s at sim {r['sim_429']:4d} ({100 * r['ratio_429']:.1f}% of successes)  "
          f"completion {r['completion_s']:.1f}s = {r['completion_x']:.2f}x lower bound {r['lower_bound_s']:.1f}s "
          f"({r['from_first_s']:.1f}s = {r['from_first_x']:.2f}x from the first success)  "
          f"fairness {r['fairness']:.2f}")
answers, upstream_429 = {}, 0
try:
    for line in open(f"{work}/gateway/metrics.txt"):
        if line.startswith("tollgate_gateway_responses_total{"):
            cls = line.split('class="')[1].split('"')[0]
            answers[cls] = answers.get(cls, 0) + int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("tollgate_gateway_upstream_throttled_total{"):
            upstream_429 += int(float(line.rsplit(" ", 1)[1]))
    print(f"gateway answers to the callers by class: {answers}; upstream 429s retried or answered: {upstream_429}")
except OSError:
    pass
g = rows["gateway"]
ok_all = g["ratio_429"] <= 0.01 and g["completion_x"] <= 1.1 and g["fairness"] <= 1.2 and g["failures"] == 0
print("side-by-side: gateway targets " + ("met" if ok_all else "MISSED") + " (429s <= 1%, completion <= 1.1x, fairness <= 1.2)")
sys.exit(0 if ok_all else 1)
PY
