#!/usr/bin/env bash
# voice-pacing.sh — the README's serve workflow with a voice campaign, run
# twice side by side: today's behaviour (pacing on the request rate alone,
# --call-pacing=false) and pacing on calls in progress (the default).
#
# Each run: moto_server (SQS) + `tollgate sim` (rate quotas ×10, the default
# concurrent-active-calls quota of 10, calls of 2-4 s, contact events
# published to an SQS queue on moto) + `tollgate serve` (following contact
# ends from that queue) + `tollgate queue submit` of N
# StartOutboundVoiceContact jobs. It waits until every job finished and
# every call ended, then reads the simulator's statistics.
#
# The bound (the shortest time any dialer can take):
#   rate:               (N - burst) / rate           = (N - 50) / 20 per s
#   calls in progress:  call seconds / calls at once = sum of the placed calls' durations / 10
#   bound = the longer of the two (each is a lower bound on its own; the
#   run is within 5% of the bound when the limiter wastes no slot and no token).
#
# Usage: scripts/voice-pacing.sh [N]      (default 350; needs moto_server, jq)
set -euo pipefail
N=${1:-350}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${VOICE_PACING_KEEP:-}" = 1 ]; then echo "voice-pacing: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for bin in moto_server jq; do
	command -v "$bin" >/dev/null || { echo "voice-pacing: $bin not found" >&2; exit 2; }
done
(cd "$ROOT" && go build -o "$WORK/tollgate" ./cmd/tollgate)
TG="$WORK/tollgate"
export AWS_ACCESS_KEY_ID=AKIDLOCALVOICE AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
unset AWS_PROFILE

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
waitline() { # file pattern → the URL on the first matching line
	for _ in $(seq 1 300); do
		if grep -q "$2" "$1" 2>/dev/null; then grep -m1 "$2" "$1" | grep -o 'http://[0-9.:]*'; return; fi
		sleep 0.1
	done
	echo "voice-pacing: timed out waiting for '$2' in $1" >&2; cat "$1" >&2; exit 1
}

MOTO_PORT=$(freeport)
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
MOTO="http://127.0.0.1:$MOTO_PORT"
for _ in $(seq 1 100); do curl -s -o /dev/null "$MOTO" && break; sleep 0.1; done

INSTANCE=c0ffee00-0000-4000-8000-000000000001
FLOW=c0ffee00-0000-4000-8000-0000000000f1
QUEUEID=c0ffee00-0000-4000-8000-0000000000a1
for i in $(seq 0 $((N - 1))); do
	printf '{"op":"StartOutboundVoiceContact","input":{"InstanceId":"%s","ContactFlowId":"%s","QueueId":"%s","DestinationPhoneNumber":"+1206555%04d"}}\n' "$INSTANCE" "$FLOW" "$QUEUEID" "$i"
done >"$WORK/jobs.jsonl"

run() { # name, extra serve flags...
	local name=$1; shift
	local dir="$WORK/$name" events="voice-events-$name-$$"
	mkdir -p "$dir"
	cat >"$dir/sim.yaml" <<YAML
addr: 127.0.0.1:0
rate_scale: 10
seed: 7
call_duration: "uniform:2s..4s"
contact_events_queue: $events
contact_events_endpoint: $MOTO
YAML
	"$TG" sim --config "$dir/sim.yaml" --quiet >"$dir/sim.out" 2>&1 &
	PIDS+=($!); local simpid=$!
	local sim; sim=$(waitline "$dir/sim.out" "^http://")
	"$TG" serve --endpoint "$sim" --rate-scale 10 --data-dir "$dir/data" --listen 127.0.0.1:0 \
		--contact-events-queue "$events" --contact-events-endpoint "$MOTO" --log-level warn "$@" >"$dir/serve.out" 2>&1 &
	PIDS+=($!); local servepid=$!
	local api; api=$(waitline "$dir/serve.out" "listening on")
	local start; start=$(date +%s.%N)
	"$TG" queue submit --server "$api" --data-dir "$dir/data" --file "$WORK/jobs.jsonl" >/dev/null
	local st
	while :; do
		st=$(curl -s -H "Authorization: Bearer $(cat "$dir/data/token")" "$api/v1/stats")
		if jq -e --argjson n "$N" '(.queue.succeeded + .queue.dead) >= $n and .dispatch.calls_in_progress == 0
			and (.dispatch.connected + .dispatch.ended_without_connecting + .dispatch.refused + .dispatch.ends_unknown) >= $n' <<<"$st" >/dev/null; then
			break
		fi
		sleep 0.05
	done
	local end; end=$(date +%s.%N)
	local ss; ss=$(curl -s "$sim/_sim/stats")
	jq -n --arg name "$name" --argjson st "$st" --argjson ss "$ss" --argjson n "$N" \
		--argjson elapsed "$(echo "$end - $start" | bc -l)" '
		($ss.operations.StartOutboundVoiceContact) as $sovc
		| (($sovc.requests - $sovc.throttled - 50) / 20) as $rate
		| ($ss.call_seconds / 10) as $calls
		| ([$rate, $calls] | max) as $bound
		| {run: $name, jobs: $n, succeeded: $st.queue.succeeded, dead: $st.queue.dead,
		   contacts_started: $ss.contacts_started, rejected_reorder: $ss.rejected_reorder,
		   duplicate_client_tokens: $ss.duplicate_client_tokens, throttled_429: $ss.totals.throttled,
		   outcomes: {connected: $st.dispatch.connected, ended_without_connecting: $st.dispatch.ended_without_connecting},
		   contact_events: $st.dispatch.contact_events, describe_contact_polls: $st.dispatch.contact_polls,
		   call_seconds: $ss.call_seconds, rate_bound_s: $rate, calls_bound_s: $calls, bound_s: $bound,
		   elapsed_s: $elapsed, ratio: ($elapsed / $bound)}' >"$dir/result.json"
	kill "$servepid" "$simpid" 2>/dev/null || true
	wait "$servepid" "$simpid" 2>/dev/null || true
}

if [ "${VOICE_PACING_ONLY_ON:-}" = 1 ]; then # a quicker look at the paced run alone
	run pacing-on ${VOICE_SERVE_FLAGS:-}
	jq '.' "$WORK/pacing-on/result.json" | tee "${VOICE_PACING_OUT:-/dev/null}"
	exit 0
fi
run pacing-off --call-pacing=false
run pacing-on
jq -s '.' "$WORK/pacing-off/result.json" "$WORK/pacing-on/result.json" | tee "${VOICE_PACING_OUT:-/dev/null}"
echo
jq -r -s '
	["", "pacing off (today)", "pacing on"],
	(["jobs succeeded", .[0].succeeded, .[1].succeeded]),
	(["calls placed (contacts_started)", .[0].contacts_started, .[1].contacts_started]),
	(["rejected_reorder (fast-busy tone)", .[0].rejected_reorder, .[1].rejected_reorder]),
	(["outcome connected", .[0].outcomes.connected, .[1].outcomes.connected]),
	(["outcome ended_without_connecting", .[0].outcomes.ended_without_connecting, .[1].outcomes.ended_without_connecting]),
	(["upstream 429s", .[0].throttled_429, .[1].throttled_429]),
	(["rate bound (s)", (.[0].rate_bound_s*10|round/10), (.[1].rate_bound_s*10|round/10)]),
	(["calls-in-progress bound (s)", (.[0].calls_bound_s*10|round/10), (.[1].calls_bound_s*10|round/10)]),
	(["elapsed until every call ended (s)", (.[0].elapsed_s*10|round/10), (.[1].elapsed_s*10|round/10)]),
	(["elapsed / bound", (.[0].ratio*1000|round/1000), (.[1].ratio*1000|round/1000)])
	| @tsv' "$WORK/pacing-off/result.json" "$WORK/pacing-on/result.json" | column -t -s $'\t'
