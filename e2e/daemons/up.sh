#!/usr/bin/env bash
# Start real Docker engines (embedded BuildKit) and local registries for the e2e
# suite; leave already-running ones alone. Usage: up.sh [docker-20|docker-26|docker-28|docker-28c|registry|buildkitd ...]
# (default: all; buildkitd only when its binary is found, see lib.sh). Runs install.sh first (fast when nothing is missing).
#
# Each engine gets its own --data-root, --exec-root, --pidfile and unix socket
# under $NXBK_HOME, no network bridge and no iptables (builds run with network
# mode none), and starts its own *managed* containerd (bookworm's 1.6.20, with
# bookworm's runc 1.1.5): dockerd does that when no --containerd flag is given,
# containerd is on PATH, and no system containerd socket exists at
# /run/containerd/containerd.sock (if one does, dockerd uses it instead; the
# per-engine --containerd-namespace then keeps the engines apart).
# Each dockerd's PATH starts with its own prefix (docker-proxy, docker-init).
#
# Registries: Debian's docker-registry (Distribution 2.8) on 127.0.0.1:5000
# (no auth) and 127.0.0.1:5001 (htpasswd, user nxbk / nxbk-secret), both HTTP,
# filesystem storage under $NXBK_HOME, deletes enabled. Engines accept them
# as insecure (Docker also treats 127.0.0.0/8 as insecure by default).
#
# Base image: the busybox rootfs is `docker load`ed into every engine as
# nxbk-base:latest (fixed config => same image ID everywhere), then pushed as
# 127.0.0.1:5000/nxbk-base:latest and 127.0.0.1:5001/nxbk-base:latest from one
# engine (newest running), skipped when the registry already has that image.
# Loading and pushing work on all three engines (checked on 20.10 too).
#
# Writes $NXBK_HOME/daemons.env and $NXBK_HOME/daemons.json (see lib.sh).
# Env: NXBK_DAEMONS_HOME, NXBK_STORAGE_DRIVER (overlay2|vfs; default: overlay2
# when an overlay mount works here, else vfs), NXBK_UP_TIMEOUT (s, default 30).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (dockerd)"
T_ALL=$(_t0)
TIMEOUT=${NXBK_UP_TIMEOUT:-30}
lock_state

want_engines=() want_registry="" want_buildkitd=""
(($#)) || set -- "${ENGINES[@]}" registry buildkitd
for a in "$@"; do
  case "$a" in
    docker-20|docker-26|docker-28|docker-28c) want_engines+=("$a") ;;
    registry) want_registry=1 ;;
    buildkitd) want_buildkitd=1 ;;
    *) die "unknown daemon '$a' (known: ${ENGINES[*]} registry buildkitd)" ;;
  esac
done
# buildkitd reads its base images from the plain registry (its docker.io mirror):
# start that too unless something already answers there.
if [[ -n $want_buildkitd ]]; then
  BUILDKITD_BIN=$(buildkitd_bin)
  if [[ -z $BUILDKITD_BIN ]]; then
    log "buildkitd: skipped (no binary: set NXBK_BUILDKITD, or put one at ../shared/tools/buildkitd/<version>/buildkitd next to the repo)"
    want_buildkitd=""
  elif ! curl -s --max-time 2 -o /dev/null "http://$REGISTRY_ADDR/v2/"; then
    want_registry=1
  fi
fi

# Idempotent and ~0.2 s when done: catches a state dir that outlived its
# machine's packages (or the other way round).
NXBK_QUIET=1 bash "$HERE/install.sh"
mkdir -p "$RUN" "$LOGS"

# ---- storage driver -----------------------------------------------------------
# overlay2 needs a working overlay mount on the filesystem holding the data
# root (e.g. not when $NXBK_HOME itself is on overlayfs); vfs always works but
# copies whole layers.
storage_driver() {
  if [[ -n "${NXBK_STORAGE_DRIVER:-}" ]]; then echo "$NXBK_STORAGE_DRIVER"; return; fi
  local t="$RUN/.overlay-check"
  rm -rf "$t"; mkdir -p "$t"/{l,u,w,m}
  if mount -t overlay overlay -o "lowerdir=$t/l,upperdir=$t/u,workdir=$t/w" "$t/m" 2>/dev/null; then
    umount "$t/m"; rm -rf "$t"; echo overlay2
  else
    rm -rf "$t"; echo vfs
  fi
}

# ---- helpers --------------------------------------------------------------------
log_tail() { log "---- last lines of $1 ----"; tail -n 25 "$1" >&2 || true; }

start_registry() {
  local name=$1 addr dir cfg
  addr=$(registry_addr "$name")
  if registry_running "$name"; then log "$name: already running (pid $(read_pid "$(registry_pidfile "$name")"))"; return 0; fi
  if curl -s --max-time 2 -o /dev/null "http://$addr/v2/"; then
    die "$addr already answers but not from a registry this script started (pid file $(registry_pidfile "$name")); stop it first"
  fi
  dir="$NXBK_HOME/$name"; cfg="$dir/config.yml"
  mkdir -p "$dir/data"
  {
    echo "# written by e2e/daemons/up.sh"
    echo "version: 0.1"
    echo "log: {level: info, fields: {service: $name}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: \"$dir/data\"}"
    echo "  delete: {enabled: true}"
    echo "  cache: {blobdescriptor: inmemory}"
    echo "http:"
    echo "  addr: $addr"
    echo "  headers: {X-Content-Type-Options: [nosniff]}"
    if [[ $name == registry-5001 ]]; then
      # bcrypt entry made once; htpasswd -B is what Distribution accepts.
      [[ -s "$dir/htpasswd" ]] || htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" > "$dir/htpasswd"
      echo "auth:"
      echo "  htpasswd: {realm: nxbk-registry, path: \"$dir/htpasswd\"}"
    fi
  } > "$cfg"
  echo "==== $(date -u +%FT%TZ) up.sh starting $name" >> "$(registry_log "$name")"
  # setsid: own session, so the daemon outlives this shell and its process group.
  setsid env -i PATH=/usr/bin:/bin HOME="$HOME" /usr/bin/docker-registry serve "$cfg" \
    >> "$(registry_log "$name")" 2>&1 < /dev/null 9>&- &   # 9>&-: do not hand the state lock to the daemon
  echo $! > "$(registry_pidfile "$name")"
}

start_engine() {
  local name=$1 dir sock pid dockerd
  dir=$(engine_dir "$name"); sock=$(engine_sock "$name"); dockerd=$(engine_dockerd "$name")
  [[ -x $dockerd ]] || die "$name: $dockerd missing; run e2e/daemons/install.sh"
  # Our PID file, else dockerd's own (e.g. ours was lost).
  pid=$(read_pid "$(engine_pidfile "$name")")
  pid_is_ours "$pid" || pid=$(read_pid "$dir/dockerd.pid")
  if pid_is_ours "$pid"; then
    echo "$pid" > "$(engine_pidfile "$name")"
    if ping_sock "$sock"; then log "$name: already running (pid $pid)"; return 0; fi
    log "$name: pid $pid alive but not answering yet; waiting for it"; return 0
  fi
  # Stale state from a crash. dockerd refuses to start while its pid file names
  # a live process, and its supervisor would reuse a containerd.pid: a killed
  # process can linger as a zombie until PID 1 reaps it, which kill -0 still
  # reports as alive. So drop pid files that no longer name a process of ours,
  # the old socket, and mounts the dead dockerd left behind.
  for pf in "$(engine_pidfile "$name")" "$dir/dockerd.pid" "$dir/exec/containerd/containerd.pid"; do
    pid_is_ours "$(read_pid "$pf")" || rm -f "$pf"
  done
  rm -f "$sock"
  pid_is_ours "$(read_pid "$dir/exec/containerd/containerd.pid")" \
    && log "$name: its previous containerd still runs; dockerd will reuse it"
  m=$(unmount_under "$dir"); ((m == 0)) || log "$name: unmounted $m leftover mount(s)"
  mkdir -p "$dir/data" "$dir/exec"
  local ctr_sock="$dir/exec/containerd/containerd.sock.ttrpc"
  ((${#ctr_sock} < 100)) || die "$name: path $ctr_sock is too long for a unix socket; use a shorter NXBK_DAEMONS_HOME"
  echo "==== $(date -u +%FT%TZ) up.sh starting $name ($dockerd, storage $SD)" >> "$(engine_log "$name")"
  setsid env -i PATH="$(engine_path "$name")" HOME="$HOME" "$dockerd" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$sock" \
    --storage-driver="$(engine_storage_driver "$name" "$SD")" $(engine_extra_flags "$name") \
    --bridge=none --iptables=false --ip-masq=false --ip-forward=false \
    --insecure-registry "$REGISTRY_ADDR" --insecure-registry "$REGISTRY_AUTH_ADDR" \
    --containerd-namespace "nxbk-$name" --containerd-plugins-namespace "nxbk-$name-plugins" \
    >> "$(engine_log "$name")" 2>&1 < /dev/null 9>&- &   # 9>&-: do not hand the state lock to the daemon
  echo $! > "$(engine_pidfile "$name")"
  STARTED+=("$name")
}

# Standalone buildkitd: rootful OCI worker (bookworm's runc), its own state root,
# socket and config under $NXBK_HOME. No image store: base images come from the
# plain registry, which is also its docker.io mirror (FROM nxbk-base works).
start_buildkitd() {
  local pid
  pid=$(read_pid "$BUILDKITD_PIDFILE")
  if pid_is_ours "$pid"; then
    if buildkitd_ping; then log "buildkitd: already running (pid $pid)"; else log "buildkitd: pid $pid alive but not answering yet; waiting for it"; fi
    return 0
  fi
  rm -f "$BUILDKITD_PIDFILE" "$BUILDKITD_SOCK"
  m=$(unmount_under "$BUILDKITD_DIR/state"); ((m == 0)) || log "buildkitd: unmounted $m leftover mount(s)"
  mkdir -p "$BUILDKITD_DIR/state"
  {
    echo "# written by e2e/daemons/up.sh"
    echo "root = \"$BUILDKITD_DIR/state\""
    echo "[grpc]"
    echo "  address = [\"unix://$BUILDKITD_SOCK\"]"
    echo "[worker.oci]"
    echo "  enabled = true"
    echo "  snapshotter = \"$([[ $SD == overlay2 ]] && echo overlayfs || echo native)\""
    echo "[worker.containerd]"
    echo "  enabled = false"
    echo "[registry.\"$REGISTRY_ADDR\"]"
    echo "  http = true"
    echo "[registry.\"$REGISTRY_AUTH_ADDR\"]"
    echo "  http = true"
    echo "[registry.\"docker.io\"]"
    echo "  mirrors = [\"$REGISTRY_ADDR\"]"
  } > "$BUILDKITD_CONFIG"
  echo "==== $(date -u +%FT%TZ) up.sh starting buildkitd ($BUILDKITD_BIN, $("$BUILDKITD_BIN" --version 2>/dev/null | awk '{print $3}'))" >> "$BUILDKITD_LOG"
  setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" "$BUILDKITD_BIN" --config "$BUILDKITD_CONFIG" \
    >> "$BUILDKITD_LOG" 2>&1 < /dev/null 9>&- &   # 9>&-: do not hand the state lock to the daemon
  echo $! > "$BUILDKITD_PIDFILE"
  STARTED+=(buildkitd)
}

# ---- start ------------------------------------------------------------------
STARTED=()
if ((${#want_engines[@]})) || [[ -n $want_buildkitd ]]; then
  SD=$(storage_driver)
  if [[ -n "${NXBK_STORAGE_DRIVER:-}" ]]; then log "storage driver $SD (NXBK_STORAGE_DRIVER)"
  elif [[ $SD != overlay2 ]]; then log "NOTE: overlay mounts do not work under $NXBK_HOME: using the vfs storage driver (slower, more disk)"; fi
  if [[ -S /run/containerd/containerd.sock ]]; then
    log "NOTE: /run/containerd/containerd.sock exists: engines will use that containerd (namespaces nxbk-<engine>) instead of their own"
  fi
fi

step "start ${want_engines[*]}${want_registry:+ registry}${want_buildkitd:+ buildkitd}"
if [[ -n $want_registry ]]; then for r in $(registry_names); do start_registry "$r"; done; fi
for e in "${want_engines[@]+"${want_engines[@]}"}"; do start_engine "$e"; done
[[ -z $want_buildkitd ]] || start_buildkitd

# Wait for all of them together (dockerd needs ~1 s; the registry less).
pending=("${want_engines[@]+"${want_engines[@]}"}")
if [[ -n $want_registry ]]; then read -r -a regnames <<<"$(registry_names)"; pending+=("${regnames[@]}"); fi
[[ -z $want_buildkitd ]] || pending+=(buildkitd)
deadline=$(( $(date +%s) + TIMEOUT ))
while ((${#pending[@]})); do
  still=()
  for n in "${pending[@]}"; do
    case $n in
      registry-*) pf=$(registry_pidfile "$n"); lf=$(registry_log "$n")
                  if registry_ping "$n"; then continue; fi ;;
      buildkitd)  pf=$BUILDKITD_PIDFILE; lf=$BUILDKITD_LOG
                  if buildkitd_ping; then continue; fi ;;
      *)          pf=$(engine_pidfile "$n"); lf=$(engine_log "$n")
                  if ping_sock "$(engine_sock "$n")"; then continue; fi ;;
    esac
    if ! pid_is_ours "$(read_pid "$pf")"; then log_tail "$lf"; die "$n exited during start-up (log: $lf)"; fi
    still+=("$n")
  done
  pending=("${still[@]+"${still[@]}"}")
  ((${#pending[@]})) || break
  if (( $(date +%s) >= deadline )); then
    for n in "${pending[@]}"; do
      case $n in registry-*) log_tail "$(registry_log "$n")" ;; buildkitd) log_tail "$BUILDKITD_LOG" ;; *) log_tail "$(engine_log "$n")" ;; esac
    done
    die "not answering after ${TIMEOUT}s: ${pending[*]}"
  fi
  sleep 0.2
done
for e in "${STARTED[@]+"${STARTED[@]}"}"; do
  [[ $e != buildkitd ]] || continue
  # $! was dockerd itself (setsid execs without forking here); say so if not.
  dp=$(read_pid "$(engine_dir "$e")/dockerd.pid")
  [[ -z $dp || $dp == "$(read_pid "$(engine_pidfile "$e")")" ]] || { echo "$dp" > "$(engine_pidfile "$e")"; }
done
step_done "${STARTED[*]+started: ${STARTED[*]}}"

# ---- base image into every running engine -----------------------------------
want_id=$(cat "$BASE_IMAGE_ID_FILE")
running_engines=()
for e in "${ENGINES_NEWEST_FIRST[@]}"; do engine_running "$e" && running_engines+=("$e"); done
if ((${#running_engines[@]})); then
  step "load $BASE_IMAGE into ${running_engines[*]}"
  loaded=()
  for e in "${running_engines[@]}"; do
    # The containerd image store reports the manifest digest as the image ID,
    # the classic store the config digest; compare the latter's where it applies.
    want=$want_id; [[ $(engine_image_store "$e") == containerd ]] && want=$(cat "$BASE_IMAGE_ID_FILE.containerd" 2>/dev/null || echo unknown)
    have=$(dcli "$e" image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)
    if [[ $have != "$want" ]]; then
      dcli "$e" load -q -i "$BASE_IMAGE_TAR" > /dev/null || die "$e: docker load of $BASE_IMAGE_TAR failed"
      have=$(dcli "$e" image inspect -f '{{.Id}}' "$BASE_IMAGE")
      if [[ $(engine_image_store "$e") == containerd ]]; then
        [[ -n $have ]] || die "$e: $BASE_IMAGE missing after docker load"
        echo "$have" > "$BASE_IMAGE_ID_FILE.containerd"
      else
        [[ $have == "$want_id" ]] || die "$e: loaded $BASE_IMAGE has id $have, expected $want_id"
      fi
      loaded+=("$e")
    fi
  done
  step_done "${loaded[*]+loaded into ${loaded[*]}; }id ${want_id:7:12}"
fi

# ---- push it to the registries ------------------------------------------------
regs=()
registry_running registry-5000 && regs+=("$REGISTRY_ADDR")
registry_running registry-5001 && regs+=("$REGISTRY_AUTH_ADDR")
if ((${#regs[@]})) && ((${#running_engines[@]})); then
  pusher=${running_engines[0]}
  step "push $BASE_IMAGE to ${regs[*]} (via $pusher)"
  pushed=()
  for addr in "${regs[@]}"; do
    registry_has_base "$addr" && continue
    if [[ $addr == "$REGISTRY_AUTH_ADDR" ]]; then
      # Throwaway DOCKER_CONFIG under the state dir: credentials never touch ~/.docker.
      printf '%s' "$REGISTRY_PASSWORD" | dcli "$pusher" login -u "$REGISTRY_USER" --password-stdin "$addr" > "$LOGS/login-$addr.log" 2>&1 \
        || { cat "$LOGS/login-$addr.log"; die "docker login $addr failed"; }
    fi
    dcli "$pusher" tag "$BASE_IMAGE" "$addr/$BASE_IMAGE"
    dcli "$pusher" push "$addr/$BASE_IMAGE" > "$LOGS/push-$addr.log" 2>&1 \
      || { tail -5 "$LOGS/push-$addr.log"; die "push to $addr failed (log: $LOGS/push-$addr.log)"; }
    registry_has_base "$addr" || die "$addr: pushed, but the registry does not serve $BASE_IMAGE with config $want_id"
    pushed+=("$addr")
  done
  step_done "${pushed[*]+pushed to ${pushed[*]}}"
fi
if ((${#regs[@]})) && ! ((${#running_engines[@]})); then
  # No engine (e.g. `up.sh buildkitd` alone): the same image, pushed with curl.
  step "push $BASE_IMAGE to ${regs[*]} (from $BASE_IMAGE_TAR)"
  pushed=()
  for addr in "${regs[@]}"; do
    registry_has_base "$addr" && continue
    push_base_archive "$addr" "${BASE_IMAGE%:*}"
    registry_has_base "$addr" || die "$addr: pushed, but the registry does not serve $BASE_IMAGE with config $want_id"
    pushed+=("$addr")
  done
  step_done "${pushed[*]+pushed to ${pushed[*]}}"
fi

# ---- base image for buildkitd: library/nxbk-base in its docker.io mirror -------
if buildkitd_running; then
  if registry_has_base "$REGISTRY_ADDR" "$BASE_MIRROR_REPO"; then :
  elif curl -s --max-time 2 -o /dev/null "http://$REGISTRY_ADDR/v2/"; then
    step "push $BASE_IMAGE to $REGISTRY_ADDR/$BASE_MIRROR_REPO (buildkitd's docker.io mirror)"
    push_base_archive "$REGISTRY_ADDR" "$BASE_MIRROR_REPO"
    registry_has_base "$REGISTRY_ADDR" "$BASE_MIRROR_REPO" || die "$REGISTRY_ADDR: pushed, but $BASE_MIRROR_REPO does not have config $want_id"
    step_done
  else
    log "NOTE: no registry at $REGISTRY_ADDR: buildkitd cannot resolve FROM $BASE_IMAGE"
  fi
fi

write_manifest
log "up in $(awk -v a="$T_ALL" -v b="$(_t0)" 'BEGIN{printf "%.1fs", b-a}'): $NXBK_HOME/daemons.json"
for e in "${ENGINES_NEWEST_FIRST[@]}"; do
  engine_running "$e" && log "  $e  unix://$(engine_sock "$e")  (engine $(curl -fsS --max-time 3 --unix-socket "$(engine_sock "$e")" http://d/version | jq -r .Version))"
done
for r in $(registry_names); do registry_running "$r" && log "  $r  http://$(registry_addr "$r")"; done
buildkitd_running && log "  buildkitd  unix://$BUILDKITD_SOCK  ($("$(buildkitd_bin)" --version 2>/dev/null | awk '{print $3}'))"
exit 0
