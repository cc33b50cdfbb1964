#!/usr/bin/env bash
# The main job (README): build the example with the builder found, or a local one started for it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ensure-bun.sh
source scripts/ensure-bun.sh
bun install --frozen-lockfile >/dev/null
exec bun scripts/example.ts
