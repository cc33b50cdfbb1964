#!/usr/bin/env bash
# The whole test suite: unit tests, typecheck, the e2e suite against real
# daemons under Bun and under Node, and the example job on buildkitd. Starts
# the e2e daemons (e2e/daemons/up.sh) unless NXBK_E2E_BUILDER names an
# external builder. Ends with the line "N passed, N failed, N skipped"
# computed by scripts/tally/ from the runners' reports, exit statuses and
# error counts; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== install"
# shellcheck source=ensure-bun.sh
source scripts/ensure-bun.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
bun install --frozen-lockfile >"$out/install.log" 2>&1 || { cat "$out/install.log"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

echo "== build (dist/ for Nx under Node and Bun)"
if ! bun scripts/build-dist.ts >"$out/dist.log" 2>&1; then cat "$out/dist.log"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi

started_daemons=0
if [[ -z "${NXBK_E2E_BUILDER:-}" ]]; then
  echo "== daemons"
  if ! bash e2e/daemons/up.sh; then echo "daemons failed to start"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
  started_daemons=1
fi

echo "== typecheck"
bun run typecheck
typecheck_status=$?

echo "== bun test (unit and e2e, under Bun)"
bun test --timeout 120000 --reporter=junit --reporter-outfile="$out/junit.xml" 2>&1 | tee "$out/bun.log" | grep -E '^\((pass|fail|skip|todo)\)|^ *[0-9]+ (pass|fail|skip|errors?)$|^skipped: |error:' || true
bun_status=${PIPESTATUS[0]}

echo "== e2e under Node $(node --version)"
node_status=1
if bun build e2e/node/run-scenarios.ts --target=node --outfile="$out/node-e2e.mjs" --external @grpc/grpc-js --external protobufjs >"$out/build.log" 2>&1; then
  # Resolve the externals from this checkout's node_modules.
  cp "$out/node-e2e.mjs" ./.node-e2e.mjs
  node ./.node-e2e.mjs 2>&1 | tee "$out/node.log"
  node_status=${PIPESTATUS[0]}
  rm -f ./.node-e2e.mjs
else
  tee "$out/node.log" <"$out/build.log"
fi

# The main job (scripts/example.sh) on the standalone buildkitd that up.sh started:
# every image of the example built there and loaded into docker-28 beside it.
example_stage=()
if [[ $started_daemons == 1 ]]; then
  bk=$(jq -r '.daemons[] | select(.kind == "buildkitd") | .address' "${NXBK_DAEMONS_HOME:-$HOME/.cache/nx-buildkit/daemons}/daemons.json" 2>/dev/null | head -1)
  if [[ -n $bk ]]; then
    echo "== example job on buildkitd ($bk)"
    engine=$(jq -r '.daemons[] | select(.name == "docker-28") | .address' "${NXBK_DAEMONS_HOME:-$HOME/.cache/nx-buildkit/daemons}/daemons.json" 2>/dev/null | head -1)
    BUILDKIT_HOST=$bk DOCKER_HOST=$engine bash scripts/example.sh >"$out/example.log" 2>&1
    example_status=$?
    [[ $example_status == 0 ]] || tail -40 "$out/example.log"
    example_stage=(--stage "example job on buildkitd" "$example_status")
  else
    echo "== example job on buildkitd: skipped (no buildkitd running)"
    example_stage=(--skipped-stage "example job on buildkitd" "no buildkitd running")
  fi
fi

if [[ $started_daemons == 1 && "${CI:-}" == "true" ]]; then bash e2e/daemons/down.sh >/dev/null 2>&1 || true; fi

# The tally: every stage's report, exit status and errors; a standard run also
# fails for skips that e2e/allowed-skips.txt does not list. Its last line is
# the final "N passed, N failed, N skipped".
echo "== tally"
bun scripts/tally/main.ts --typecheck "$typecheck_status" --bun "$out/junit.xml" "$out/bun.log" "$bun_status" --node "$out/node.log" "$node_status" "${example_stage[@]}" --allowed-skips e2e/allowed-skips.txt
