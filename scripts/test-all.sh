#!/usr/bin/env bash
# The whole test suite: unit tests, typecheck, the e2e suite against real
# daemons under Bun and under Node, and the example job on buildkitd. Starts
# the e2e daemons (e2e/daemons/up.sh) unless NXBK_E2E_BUILDER names an
# external builder. Ends with the line
# "N passed, N failed, N skipped" computed from the runners' own results.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

passed=0 failed=0 skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }

echo "== install"
# shellcheck source=ensure-bun.sh
source scripts/ensure-bun.sh || { echo "0 passed, 1 failed"; exit 1; }
bun install --frozen-lockfile >"$out/install.log" 2>&1 || { cat "$out/install.log"; echo "0 passed, 1 failed"; exit 1; }

echo "== build (dist/ for Nx under Node and Bun)"
if ! bun scripts/build-dist.ts >"$out/dist.log" 2>&1; then cat "$out/dist.log"; echo "0 passed, 1 failed"; exit 1; fi

started_daemons=0
if [[ -z "${NXBK_E2E_BUILDER:-}" ]]; then
  echo "== daemons"
  if ! bash e2e/daemons/up.sh; then echo "daemons failed to start"; echo "0 passed, 1 failed"; exit 1; fi
  started_daemons=1
fi

echo "== typecheck"
if bun run typecheck; then count 1 0; else count 0 1; fi

echo "== bun test (unit and e2e, under Bun)"
bun test --timeout 120000 --reporter=junit --reporter-outfile="$out/junit.xml" 2>&1 | tee "$out/bun.log" | grep -E '^\((pass|fail|skip|todo)\)|^ *[0-9]+ (pass|fail|skip)|error:' || true
if [[ -f "$out/junit.xml" ]]; then
  read -r t f s < <(sed -n 's/.*<testsuites [^>]*tests="\([0-9]*\)"[^>]*failures="\([0-9]*\)"[^>]*skipped="\([0-9]*\)".*/\1 \2 \3/p' "$out/junit.xml" | head -1)
  count $((t - f - s)) "$f" "$s"
else
  echo "bun test produced no report"; count 0 1
fi

echo "== e2e under Node $(node --version)"
if bun build e2e/node/run-scenarios.ts --target=node --outfile="$out/node-e2e.mjs" --external @grpc/grpc-js --external protobufjs >"$out/build.log" 2>&1; then
  # Resolve the externals from this checkout's node_modules.
  cp "$out/node-e2e.mjs" ./.node-e2e.mjs
  node ./.node-e2e.mjs | tee "$out/node.log"
  rm -f ./.node-e2e.mjs
  tally=$(grep -o 'node-e2e-tally passed=[0-9]* failed=[0-9]*' "$out/node.log" | tail -1)
  if [[ -n "$tally" ]]; then
    p=${tally#*passed=}; p=${p%% *}; f=${tally##*failed=}
    count "$p" "$f"
  else
    echo "node e2e run did not finish"; count 0 1
  fi
else
  cat "$out/build.log"; count 0 1
fi

# The main job (scripts/example.sh) on the standalone buildkitd that up.sh started:
# every image of the example built there (no image store: --no-load, links
# through the run's OCI layouts).
if [[ $started_daemons == 1 ]]; then
  bk=$(jq -r '.daemons[] | select(.kind == "buildkitd") | .address' "${NXBK_DAEMONS_HOME:-$HOME/.cache/nx-buildkit/daemons}/daemons.json" 2>/dev/null | head -1)
  if [[ -n $bk ]]; then
    echo "== example job on buildkitd ($bk)"
    if BUILDKIT_HOST=$bk bash scripts/example.sh >"$out/example.log" 2>&1; then count 1 0; else tail -40 "$out/example.log"; count 0 1; fi
  else
    echo "== example job on buildkitd: skipped (no buildkitd running)"; count 0 0 1
  fi
fi

if [[ $started_daemons == 1 && "${CI:-}" == "true" ]]; then bash e2e/daemons/down.sh >/dev/null 2>&1 || true; fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[[ $failed -eq 0 ]]
