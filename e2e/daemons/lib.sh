# shellcheck shell=bash disable=SC2034  # variables are used by the scripts sourcing this
# Shared settings and helpers for e2e/daemons/{install,up,down}.sh.
# Sourced, not executed. Everything the scripts create lives under $NXBK_HOME
# (never a machine-specific path in the repo): the unpacked engines, the data
# and exec roots, sockets, logs, PID files, registry storage, daemons.{env,json}.

NXBK_HOME="${NXBK_DAEMONS_HOME:-$HOME/.cache/nx-buildkit/daemons}"

# Under `set -e` a failing command ends the script silently; say which one.
set -E
# shellcheck disable=SC2154  # rc is assigned inside the trap string
trap 'rc=$?; printf "[nxbk-daemons] ERROR: \"%s\" failed (exit %s) at %s:%s\n" "$BASH_COMMAND" "$rc" "${BASH_SOURCE[0]##*/}" "$LINENO" >&2' ERR

ENGINES=(docker-20 docker-26 docker-28 docker-28c)   # the Docker engines up.sh knows
# Newest first: consumers that take "the first daemon" get the most capable.
ENGINES_NEWEST_FIRST=(docker-28 docker-28c docker-26 docker-20)
REGISTRY_ADDR=127.0.0.1:5000              # plain registry (HTTP, no auth)
REGISTRY_AUTH_ADDR=127.0.0.1:5001         # same, with htpasswd basic auth
REGISTRY_USER=nxbk
REGISTRY_PASSWORD=nxbk-secret
BASE_IMAGE=nxbk-base:latest

# The Debian 12 docker.io package's CLI (20.10 client). Called by explicit path
# because another, unrelated `docker` may come first on PATH (/usr/local/bin).
DOCKER_CLI=/usr/bin/docker

PKGS="$NXBK_HOME/pkgs"        # dpkg -x prefixes of the trixie/sid packages
RUN="$NXBK_HOME/run"          # per-daemon data/exec roots and PID files
LOGS="$NXBK_HOME/logs"
BASE_ROOTFS="$NXBK_HOME/base-rootfs.tar"   # busybox rootfs (plain tar)
BASE_IMAGE_TAR="$NXBK_HOME/base-image.tar" # same, as a `docker load` archive
BASE_IMAGE_ID_FILE="$NXBK_HOME/base-image.id"
DOCKER_CONFIG_DIR="$NXBK_HOME/docker-config" # throwaway DOCKER_CONFIG (auth + buildx plugin)

# ---- logging with per-step timings ------------------------------------------
_t0() { date +%s.%N; }
_STEP_START=""
_STEP_NAME=""
log() { printf '[nxbk-daemons] %s\n' "$*"; }
die() { printf '[nxbk-daemons] ERROR: %s\n' "$*" >&2; exit 1; }
# NXBK_QUIET=1 (set by up.sh for its install.sh call) hides steps with nothing to do.
step() { _STEP_NAME="$*"; _STEP_START=$(_t0); [[ -n "${NXBK_QUIET:-}" ]] || log "$* ..."; }
step_done() {
  local extra="${1:-}"
  log "$_STEP_NAME: done${extra:+ ($extra)} in $(awk -v a="$_STEP_START" -v b="$(_t0)" 'BEGIN{printf "%.1fs", b-a}')"
}
step_skip() { [[ -n "${NXBK_QUIET:-}" ]] || step_done "$@"; }   # nothing to do

# ---- engines ------------------------------------------------------------------
# Prefix whose usr/{sbin,bin} hold the engine's dockerd, docker-proxy, docker-init.
# docker-20 is Debian 12's own docker.io, installed into the system by apt.
engine_prefix() {
  case "$1" in
    docker-20) echo "" ;;
    docker-26|docker-28) echo "$PKGS/$1" ;;
    docker-28c) echo "$PKGS/docker-28" ;;
    *) die "unknown engine $1" ;;
  esac
}
engine_dockerd() { echo "$(engine_prefix "$1")/usr/sbin/dockerd"; }
# Own prefix first so each engine finds its own docker-proxy/docker-init; then
# the system dirs for bookworm's containerd 1.6 and runc 1.1 (shared by all).
engine_path() {
  local p; p=$(engine_prefix "$1")
  if [[ -n "$p" ]]; then
    echo "$p/usr/sbin:$p/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  else
    echo "/usr/sbin:/usr/bin:/sbin:/bin"
  fi
}
# docker-28c is Docker 28 with the containerd image store: the only image store
# whose embedded BuildKit offers the image (push), oci and docker exporters.
engine_image_store() { [[ $1 == docker-28c ]] && echo containerd || echo classic; }
engine_extra_flags() { [[ $1 == docker-28c ]] && echo "--feature containerd-snapshotter=true"; return 0; }
# With the containerd image store, --storage-driver names a containerd snapshotter.
engine_storage_driver() {
  if [[ $(engine_image_store "$1") == containerd ]]; then [[ $2 == overlay2 ]] && echo overlayfs || echo native
  else echo "$2"; fi
}
engine_sock() { echo "$NXBK_HOME/$1.sock"; }
engine_dir() { echo "$RUN/$1"; }                  # data/ exec/ dockerd.pid
engine_pidfile() { echo "$RUN/$1.pid"; }           # PID recorded by up.sh
engine_log() { echo "$LOGS/$1.log"; }
engine_env_var() { local n=${1//-/_}; echo "NXBK_${n^^}_SOCK"; }  # docker-28 -> NXBK_DOCKER_28_SOCK

# docker CLI bound to one engine, with the throwaway config (auth for :5001).
dcli() {
  local name=$1; shift
  DOCKER_CONFIG="$DOCKER_CONFIG_DIR" "$DOCKER_CLI" -H "unix://$(engine_sock "$name")" "$@"
}

ping_sock() { # ping_sock SOCKET -> 0 when the engine answers GET /_ping with OK
  [[ -S "$1" ]] || return 1
  [[ "$(curl -fsS --max-time 2 --unix-socket "$1" http://d/_ping 2>/dev/null)" == "OK" ]]
}

# ---- standalone buildkitd -------------------------------------------------------
# Not packaged by Debian: the binary comes from $NXBK_BUILDKITD, else the newest
# ../shared/tools/buildkitd/<version>/buildkitd next to this checkout. Without
# one, up.sh says buildkitd was skipped and starts the rest.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILDKITD_DIR="$RUN/buildkitd"                 # state root, config, PID file
BUILDKITD_SOCK="$NXBK_HOME/buildkitd.sock"
BUILDKITD_CONFIG="$BUILDKITD_DIR/buildkitd.toml"
BUILDKITD_PIDFILE="$RUN/buildkitd.pid"
BUILDKITD_LOG="$LOGS/buildkitd.log"
# buildkitd has no image store: `FROM nxbk-base` means docker.io/library/nxbk-base,
# which its docker.io mirror (the plain registry) serves under that name.
BASE_MIRROR_REPO=library/${BASE_IMAGE%:*}
buildkitd_bin() { # prints the binary's path, or nothing when there is none
  if [[ -n "${NXBK_BUILDKITD:-}" ]]; then [[ -x $NXBK_BUILDKITD ]] && echo "$NXBK_BUILDKITD"; return 0; fi
  local b
  b=$(find "$REPO_ROOT/../shared/tools/buildkitd" -mindepth 2 -maxdepth 2 -name buildkitd -type f -perm -u+x 2>/dev/null | sort -V | tail -1)
  [[ -n $b ]] && echo "$b"
  return 0
}
buildkitd_ping() { # 0 when the socket serves gRPC (any HTTP/2 answer from the server)
  [[ -S $BUILDKITD_SOCK ]] || return 1
  local code
  code=$(curl -sS --max-time 2 --http2-prior-knowledge --unix-socket "$BUILDKITD_SOCK" -o /dev/null -w '%{http_code}' \
         -H 'content-type: application/grpc' -X POST --data-binary @/dev/null http://d/grpc.health.v1.Health/Check 2>/dev/null || true)
  [[ $code =~ ^[1-5][0-9][0-9]$ ]]
}
buildkitd_running() { pid_is_ours "$(read_pid "$BUILDKITD_PIDFILE")" && buildkitd_ping; }

# ---- registries ---------------------------------------------------------------
registry_names() { echo "registry-5000 registry-5001"; }
registry_addr() { case "$1" in registry-5000) echo "$REGISTRY_ADDR" ;; registry-5001) echo "$REGISTRY_AUTH_ADDR" ;; esac; }
registry_pidfile() { echo "$RUN/$1.pid"; }
registry_log() { echo "$LOGS/$1.log"; }
registry_ping() { # 0 when /v2/ answers 200 (with credentials for the auth one)
  local auth=()
  [[ "$1" == registry-5001 ]] && auth=(-u "$REGISTRY_USER:$REGISTRY_PASSWORD")
  curl -fsS --max-time 2 "${auth[@]}" -o /dev/null "http://$(registry_addr "$1")/v2/" 2>/dev/null
}

# push_base_archive ADDR REPO: put the base image ($BASE_IMAGE_TAR, a `docker load`
# archive) into the registry at ADDR as REPO:latest with curl alone (no
# engine needed): gzip -n layer, the archive's config (so the same image ID), a
# schema 2 manifest. Blobs the registry has are not sent again.
push_base_archive() {
  local addr=$1 repo=$2 work cfg layer cfg_d layer_d manifest auth=()
  [[ $addr == "$REGISTRY_AUTH_ADDR" ]] && auth=(-u "$REGISTRY_USER:$REGISTRY_PASSWORD")
  work=$(mktemp -d "$NXBK_HOME/.push.XXXXXX")
  tar -C "$work" -xf "$BASE_IMAGE_TAR"
  cfg="$work/$(jq -r '.[0].Config' "$work/manifest.json")"
  layer="$work/$(jq -r '.[0].Layers[0]' "$work/manifest.json")"
  gzip -n -c "$layer" > "$work/layer.tar.gz"
  cfg_d="sha256:$(sha256sum "$cfg" | cut -c1-64)"
  layer_d="sha256:$(sha256sum "$work/layer.tar.gz" | cut -c1-64)"
  local files=("$cfg" "$work/layer.tar.gz") digests=("$cfg_d" "$layer_d") i blob digest loc
  for i in 0 1; do
    blob=${files[$i]} digest=${digests[$i]}
    curl -fsS --max-time 10 "${auth[@]}" -o /dev/null -I "http://$addr/v2/$repo/blobs/$digest" 2>/dev/null && continue
    loc=$(curl -fsS --max-time 10 "${auth[@]}" -o /dev/null -D - -X POST "http://$addr/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [[ -n $loc ]] || { rm -rf "$work"; die "$addr: no upload location for $repo"; }
    [[ $loc == http* ]] || loc="http://$addr$loc"
    [[ $loc == *\?* ]] && loc="$loc&digest=$digest" || loc="$loc?digest=$digest"
    curl -fsS --max-time 60 "${auth[@]}" -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$blob" "$loc" \
      || { rm -rf "$work"; die "$addr: uploading $digest to $repo failed"; }
  done
  manifest=$(jq -cn --arg cd "$cfg_d" --argjson cs "$(stat -c %s "$cfg")" --arg ld "$layer_d" --argjson ls "$(stat -c %s "$work/layer.tar.gz")" '
    {schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json",
     config: {mediaType: "application/vnd.docker.container.image.v1+json", size: $cs, digest: $cd},
     layers: [{mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: $ls, digest: $ld}]}')
  rm -rf "$work"
  curl -fsS --max-time 10 "${auth[@]}" -o /dev/null -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
    --data-binary "$manifest" "http://$addr/v2/$repo/manifests/${BASE_IMAGE#*:}" || die "$addr: putting the $repo manifest failed"
}
# registry_has_base ADDR [REPO]: 0 when REPO:latest (default nxbk-base) there has our base's config.
registry_has_base() {
  local addr=$1 repo=${2:-${BASE_IMAGE%:*}} auth=() got
  [[ $addr == "$REGISTRY_AUTH_ADDR" ]] && auth=(-u "$REGISTRY_USER:$REGISTRY_PASSWORD")
  got=$(curl -fsS --max-time 5 "${auth[@]}" \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        "http://$addr/v2/$repo/manifests/${BASE_IMAGE#*:}" 2>/dev/null | jq -r '.config.digest // empty' 2>/dev/null || true)
  [[ -n $got && $got == "$(cat "$BASE_IMAGE_ID_FILE" 2>/dev/null)" ]]
}

# ---- PIDs -------------------------------------------------------------------
# A recorded PID is only trusted while its command line still mentions our state
# dir: this guards against a recycled PID belonging to someone else.
pid_is_ours() {
  local pid=$1
  local cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline") || return 1   # gone: no such file
  [[ $cmd == *"$NXBK_HOME"* ]]
}
read_pid() { if [[ -s "$1" ]]; then tr -dc '0-9' < "$1"; fi; }

# ---- daemons.env / daemons.json ---------------------------------------------
# Describe what is running *now* (whatever up.sh invocation started it), so the
# test suite can read one file. Removed when nothing of ours is running.
engine_running() { # 0 when the engine's recorded dockerd is ours and answers
  local name=$1 pid
  pid=$(read_pid "$(engine_pidfile "$name")")
  [[ -n $pid ]] || pid=$(read_pid "$(engine_dir "$name")/dockerd.pid")
  pid_is_ours "$pid" && ping_sock "$(engine_sock "$name")"
}
registry_running() {
  pid_is_ours "$(read_pid "$(registry_pidfile "$1")")" && registry_ping "$1"
}
write_manifest() {
  local env="$NXBK_HOME/daemons.env" json="$NXBK_HOME/daemons.json"
  local daemons='[]' lines=() name sock ver any=""
  # Newest engine first: consumers that take "the first daemon" get the most capable.
  for name in "${ENGINES_NEWEST_FIRST[@]}"; do
    engine_running "$name" || continue
    any=1
    sock=$(engine_sock "$name")
    ver=$(curl -fsS --max-time 3 --unix-socket "$sock" http://d/version | jq -r .Version 2>/dev/null || echo unknown)
    lines+=("$(engine_env_var "$name")=$sock")
    daemons=$(jq -c --arg n "$name" --arg a "unix://$sock" --arg v "$ver" --arg st "$(engine_image_store "$name")" \
      '. + [{name:$n, address:$a, kind:"docker", engineVersion:$v, imageStore:$st}]' <<<"$daemons")
  done
  if buildkitd_running; then
    any=1
    lines+=("NXBK_BUILDKITD_SOCK=$BUILDKITD_SOCK")
    ver=$("$(buildkitd_bin)" --version 2>/dev/null | awk '{print $3}' || true)
    daemons=$(jq -c --arg a "unix://$BUILDKITD_SOCK" --arg v "${ver:-unknown}" \
      '. + [{name:"buildkitd", address:$a, kind:"buildkitd", buildkitVersion:$v}]' <<<"$daemons")
  fi
  local reg="" regauth=""
  registry_running registry-5000 && { reg=$REGISTRY_ADDR; any=1; lines+=("NXBK_REGISTRY=$reg"); }
  registry_running registry-5001 && { regauth=$REGISTRY_AUTH_ADDR; any=1
    lines+=("NXBK_REGISTRY_AUTH=$regauth" "NXBK_REGISTRY_AUTH_USERNAME=$REGISTRY_USER" "NXBK_REGISTRY_AUTH_PASSWORD=$REGISTRY_PASSWORD"); }
  if [[ -z $any ]]; then rm -f "$env" "$json"; return 0; fi
  lines+=("NXBK_DAEMONS_HOME=$NXBK_HOME" "NXBK_DAEMONS_JSON=$json"
          "NXBK_BASE_ROOTFS=$BASE_ROOTFS" "NXBK_BASE_IMAGE=$BASE_IMAGE" "NXBK_BASE_IMAGE_ID=$(cat "$BASE_IMAGE_ID_FILE" 2>/dev/null)"
          "NXBK_DOCKER_CLI=$DOCKER_CLI" "NXBK_DOCKER_CONFIG=$DOCKER_CONFIG_DIR"
          "NXBK_BUILDX=$PKGS/buildx/usr/libexec/docker/cli-plugins/docker-buildx")
  printf '%s\n' "${lines[@]}" > "$env.tmp" && mv -f "$env.tmp" "$env"
  jq -n --argjson d "$daemons" --arg r "$reg" --arg ra "$regauth" \
        --arg u "$REGISTRY_USER" --arg p "$REGISTRY_PASSWORD" \
        --arg rootfs "$BASE_ROOTFS" --arg img "$BASE_IMAGE" --arg id "$(cat "$BASE_IMAGE_ID_FILE" 2>/dev/null)" '
    {daemons: $d}
    + (if $r  != "" then {registry: $r} else {} end)
    + (if $ra != "" then {registryAuth: {address: $ra, username: $u, password: $p}} else {} end)
    + {baseRootfs: $rootfs, baseImage: $img, baseImageId: $id}' > "$json.tmp" && mv -f "$json.tmp" "$json"
}

# unmount_under DIR: unmount every mount at or below DIR, deepest first (dockerd
# bind-mounts its data root onto itself and overlay2 mounts layers; after a
# SIGKILL they stay behind). Lazy unmount as a last resort. Prints the count.
unmount_under() {
  local d=$1 n=0 m
  while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m" >&2
    n=$((n + 1))
  done < <(awk -v d="$d" '{ mp=$5; gsub(/\\040/, " ", mp); if (mp == d || index(mp, d "/") == 1) print length(mp) "\t" mp }' /proc/self/mountinfo \
           | sort -rn | cut -f2-)
  echo "$n"
}

# One up/down/install at a time per state dir (e.g. parallel test workers all
# calling up.sh). Nested calls (up.sh -> install.sh) inherit the lock.
lock_state() {
  [[ -n "${NXBK_DAEMONS_LOCKED:-}" ]] && return 0
  mkdir -p "$NXBK_HOME"
  exec 9> "$NXBK_HOME/.lock"
  flock -w 300 9 || die "another up/down/install holds $NXBK_HOME/.lock"
  export NXBK_DAEMONS_LOCKED=1
}
