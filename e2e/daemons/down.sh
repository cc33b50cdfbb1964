#!/usr/bin/env bash
# Stop what up.sh started. Usage: down.sh [docker-20|docker-26|docker-28|docker-28c|registry|buildkitd ...]
# (default: all). Only PIDs recorded under $NXBK_HOME are signalled (never
# processes found by name), and only while their command line still mentions
# $NXBK_HOME (guards against recycled PIDs): SIGTERM, then SIGKILL after 10 s.
# An engine's managed containerd normally exits with its dockerd; if it does
# not (e.g. dockerd was SIGKILLed) it is stopped through the containerd.pid
# that dockerd recorded. Running containers are killed through the API first;
# ones that outlived their engine through the init.pid containerd recorded
# (and their runc shim, its parent).
# Then leftover mounts under $NXBK_HOME are unmounted, and daemons.env/json
# are rewritten for what still runs (removed when nothing does).
# Data (images, build cache, registry storage) is kept for the next up.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root"
T_ALL=$(_t0)
GRACE=${NXBK_DOWN_GRACE:-10}
lock_state

engines=() registries=() buildkitd=""
(($#)) || set -- "${ENGINES[@]}" registry buildkitd
for a in "$@"; do
  case "$a" in
    docker-20|docker-26|docker-28|docker-28c) engines+=("$a") ;;
    registry) read -r -a registries <<<"$(registry_names)" ;;
    buildkitd) buildkitd=1 ;;
    *) die "unknown daemon '$a' (known: ${ENGINES[*]} registry buildkitd)" ;;
  esac
done

# stop_pids LABEL PID... : TERM those that are ours, wait up to $GRACE s, KILL the rest.
stop_pids() {
  local label=$1; shift
  local live=() p
  for p in "$@"; do pid_is_ours "$p" && live+=("$p"); done
  ((${#live[@]})) || return 0
  kill -TERM "${live[@]}" 2>/dev/null || true
  local deadline=$(( $(date +%s) + GRACE ))
  while :; do
    local still=()
    for p in "${live[@]}"; do pid_is_ours "$p" && still+=("$p"); done   # zombies count as gone
    live=("${still[@]+"${still[@]}"}")
    ((${#live[@]})) || break
    if (( $(date +%s) >= deadline )); then
      log "$label: pid(s) ${live[*]} still alive after ${GRACE}s: SIGKILL"
      kill -KILL "${live[@]}" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
}

step "stop ${engines[*]}${registries[*]:+ registry}${buildkitd:+ buildkitd}"
stopped=()
# 0. Kill running containers through the API first: dockerd otherwise gives each
# one 10 s to stop on shutdown, and a SIGKILLed dockerd leaves them behind.
for e in "${engines[@]}"; do
  engine_running "$e" || continue
  sock=$(engine_sock "$e")
  for id in $(curl -fsS --max-time 5 --unix-socket "$sock" http://d/containers/json | jq -r '.[].Id' 2>/dev/null || true); do
    curl -fsS --max-time 5 --unix-socket "$sock" -X POST "http://d/containers/$id/kill" > /dev/null 2>&1 || true
  done
done
# 1. dockerd (recorded by up.sh, or dockerd's own --pidfile).
pids=()
for e in "${engines[@]}"; do
  for pf in "$(engine_pidfile "$e")" "$(engine_dir "$e")/dockerd.pid"; do
    p=$(read_pid "$pf"); pid_is_ours "$p" && { pids+=("$p"); stopped+=("$e"); break; }
  done
done
stop_pids dockerd "${pids[@]+"${pids[@]}"}"
# 2. managed containerd left behind (recorded by dockerd in containerd.pid).
pids=()
for e in "${engines[@]}"; do
  pids+=("$(read_pid "$(engine_dir "$e")/exec/containerd/containerd.pid")")
done
stop_pids containerd "${pids[@]+"${pids[@]}"}"
# 2b. Containers that outlived their engine: containerd records each one's
# init PID in its bundle (init.pid); its parent is the runc shim, whose
# command line names our containerd socket. Kill the container, then the shim.
inits=() shims=()
for e in "${engines[@]}"; do
  while IFS= read -r -d '' pf; do
    p=$(read_pid "$pf"); [[ -n $p && -r /proc/$p/stat ]] || continue
    pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || true)
    pid_is_ours "$pp" || continue
    inits+=("$p"); shims+=("$pp")
  done < <(find "$(engine_dir "$e")/exec/containerd" -path '*io.containerd.runtime.v2.task/*/init.pid' -print0 2>/dev/null || true)
done
if ((${#inits[@]})); then
  log "killing ${#inits[@]} container(s) left without their engine"
  kill -KILL "${inits[@]}" 2>/dev/null || true
  sleep 0.5
  stop_pids containerd-shim "${shims[@]}"
fi
# 3. registries.
pids=()
for r in "${registries[@]+"${registries[@]}"}"; do
  p=$(read_pid "$(registry_pidfile "$r")"); pid_is_ours "$p" && { pids+=("$p"); stopped+=("$r"); }
done
stop_pids registry "${pids[@]+"${pids[@]}"}"

# 4. buildkitd (it ends the runc containers of its builds on SIGTERM).
if [[ -n $buildkitd ]]; then
  p=$(read_pid "$BUILDKITD_PIDFILE")
  if pid_is_ours "$p"; then stop_pids buildkitd "$p"; stopped+=(buildkitd); fi
  rm -f "$BUILDKITD_PIDFILE" "$BUILDKITD_SOCK"
fi

# Forget the PIDs and sockets of what is now stopped.
for e in "${engines[@]}"; do
  rm -f "$(engine_pidfile "$e")" "$(engine_dir "$e")/dockerd.pid" "$(engine_sock "$e")"
done
for r in "${registries[@]+"${registries[@]}"}"; do rm -f "$(registry_pidfile "$r")"; done
step_done "${stopped[*]:+stopped: ${stopped[*]}}"

# 5. Leftover mounts under the stopped engines' dirs (see unmount_under).
n=0
for e in "${engines[@]+"${engines[@]}"}"; do n=$((n + $(unmount_under "$(engine_dir "$e")"))); done
[[ -z $buildkitd ]] || n=$((n + $(unmount_under "$BUILDKITD_DIR")))
((n == 0)) || log "unmounted $n leftover mount(s)"

write_manifest
log "down in $(awk -v a="$T_ALL" -v b="$(_t0)" 'BEGIN{printf "%.1fs", b-a}')"
