#!/usr/bin/env bash
# scripts/test.sh — the one command that runs every Tollgate test.
#
# It installs what the tests need when it is missing (redis-server from
# Debian; the Node interop client from npm), then runs go vet, the whole Go
# suite with the race detector, and the Node + boto3 interop script against
# the simulator. Tests start their own servers (redis-server, moto_server,
# the simulator) on free loopback ports and stop them. With CI=true a missing
# real dependency fails the run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The dashboard's browser test (internal/server/browser) drives Debian's chromium.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# examples/deploy verifies the systemd unit with systemd-analyze.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if ((${#need_apt[@]})); then
	log "installing ${need_apt[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
	# Debian starts the packaged service; the tests start their own servers.
	(service redis-server stop || systemctl stop redis-server || true) >/dev/null 2>&1
fi

for bin in moto_server node npm python3; do
	command -v "$bin" >/dev/null 2>&1 || { log "missing $bin (needed by the tests)"; exit 1; }
done

export CI="${CI:-}"
ROOT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
untracked() { git -C "$ROOT_DIR" status --porcelain --untracked-files=all 2>/dev/null | grep '^??' | sort || true; }
untracked_before="$(untracked)"
log "go vet"
go vet ./...

log "go test -race"
set +e
go test -race -count=1 -timeout 20m ./...
status=$?
set -e
if [ "$status" -ne 0 ]; then
	log "go test failed (exit $status)"
	exit "$status"
fi

log "node --test js/stagger-start (the desktop module; reads stagger/testdata/slots.json)"
node --test js/stagger-start/test/

if [ -x interop/run.sh ]; then
	log "interop (Node @aws-sdk/client-connect and boto3 against tollgate sim)"
	bash interop/run.sh
fi
# The tests must leave the source tree as they found it (files they write
# belong in their temp directories): a file left behind can end up committed.
if [ -n "$untracked_before" ] || git -C "$ROOT_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	left="$(comm -13 <(printf '%s\n' "$untracked_before") <(untracked))"
	if [ -n "$left" ]; then
		log "the tests left files in the source tree:"
		echo "$left" >&2
		exit 1
	fi
fi
log "all tests passed"
