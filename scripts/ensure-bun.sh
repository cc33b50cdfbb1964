#!/usr/bin/env bash
# Source this: puts a Bun on PATH, installing the pinned version from the npm
# registry (the `bun` package ships the binary) when none is there.
NXBK_BUN_VERSION=1.4.4
if ! command -v bun >/dev/null 2>&1; then
  echo "installing bun ${NXBK_BUN_VERSION} from the npm registry"
  npm install -g "bun@${NXBK_BUN_VERSION}" >/dev/null 2>&1 || { echo "could not install bun"; return 1 2>/dev/null || exit 1; }
fi
