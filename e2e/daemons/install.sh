#!/usr/bin/env bash
# Install everything the e2e suite needs for real BuildKit daemons, from nothing
# on a Debian 12 (bookworm) machine, as root. Idempotent; fast when done already.
#
#  1. apt (bookworm): docker.io 20.10.24 (embedded BuildKit 0.8), containerd 1.6,
#     runc 1.1, docker-registry (Distribution 2.8), apache2-utils (htpasswd),
#     openssh-client, busybox-static, curl, iproute2, jq, tini.
#     Services are NOT started: there is no systemd, and a policy-rc.d that
#     exits 101 keeps the postinst scripts from trying; anything they started
#     anyway is stopped again through the package's own PID file.
#  2. A private apt configuration (own sources list with trixie + sid, own lists
#     and cache; dpkg status stays the system's) downloads docker.io from trixie
#     (26.1.x) and from sid (28.x, whatever sid has today) plus docker-buildx from
#     sid, and unpacks them with `dpkg -x` under $NXBK_HOME/pkgs. They are never
#     installed into the system. The archive URI is read at run time from the
#     system's own Debian sources entry.
#  3. A tiny busybox rootfs ($NXBK_HOME/base-rootfs.tar) and the same rootfs as
#     a deterministic `docker load` archive (same image ID on every engine).
#
# Env: NXBK_DAEMONS_HOME (state dir, default ~/.cache/nx-buildkit/daemons),
#      NXBK_DAEMONS_REFRESH=1 to re-download the trixie/sid packages (sid moves).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, dockerd)"
T_ALL=$(_t0)
lock_state
mkdir -p "$NXBK_HOME" "$PKGS" "$RUN" "$LOGS"

# ---- 1. system packages from bookworm ---------------------------------------
APT_PKGS=(docker.io containerd runc docker-registry apache2-utils openssh-client tmux
          busybox-static curl iproute2 jq tini ca-certificates)
step "apt packages (bookworm)"
missing=()
for p in "${APT_PKGS[@]}"; do
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  # policy-rc.d exit 101 = "do not start services" for invoke-rc.d (postinst).
  policy=/usr/sbin/policy-rc.d policy_backup=""
  if [[ -e $policy ]] && ! grep -q 'exit 101' "$policy"; then
    policy_backup=$(mktemp); cp -a "$policy" "$policy_backup"
  fi
  created_policy=""
  if [[ ! -e $policy || -n $policy_backup ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; created_policy=1
  fi
  restore_policy() {
    if [[ -n $policy_backup ]]; then mv -f "$policy_backup" "$policy"
    elif [[ -n $created_policy ]]; then rm -f "$policy"; fi
  }
  trap restore_policy EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" > "$LOGS/apt-install.log" 2>&1 \
    || { tail -30 "$LOGS/apt-install.log"; die "apt-get install failed (log: $LOGS/apt-install.log)"; }
  restore_policy; trap - EXIT
  # If a postinst started a system daemon anyway, stop it again through the
  # PID file that the package's init script records (never by process name).
  for svc in docker docker-registry; do
    pf=/var/run/$svc.pid
    if [[ -s $pf ]] && kill -0 "$(read_pid "$pf")" 2>/dev/null; then
      log "stopping system $svc started by its postinst (pid $(read_pid "$pf"))"
      /etc/init.d/$svc stop || kill "$(read_pid "$pf")" || true
    fi
  done
  step_done "${#missing[@]} installed"
else
  step_skip "already installed"
fi

# ---- 2. docker.io 26 (trixie), 28 (sid), docker-buildx (sid), unpacked ------
APT_HOME="$NXBK_HOME/apt"
DEBS="$NXBK_HOME/debs"
# name:package/suite  -> unpacked into $PKGS/<name>
UNPACK=("docker-26:docker.io/trixie" "docker-28:docker.io/sid" "buildx:docker-buildx/sid")

need_unpack=()
for spec in "${UNPACK[@]}"; do
  name=${spec%%:*}
  if [[ "${NXBK_DAEMONS_REFRESH:-}" == 1 || ! -s "$PKGS/$name/.deb-version" ]]; then need_unpack+=("$spec"); fi
done

step "docker.io 26/28 + docker-buildx from trixie/sid (private apt, dpkg -x)"
if ((${#need_unpack[@]})); then
  # Archive URI from the system's Debian entry (deb822 under sources.list.d, or
  # a one-line sources.list as a fallback). Never hard-code a host name here.
  uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -e $f ]] || continue
    # First URI of a stanza whose Suites has a plain bookworm suite (so not
    # the -security archive, nor a third-party repository).
    uri=$(awk 'BEGIN{RS=""} /(^|\n)Suites:[^\n]*bookworm([ \t\n]|-updates|$)/ && !/Suites:[^\n]*-security/ {
                 if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u=substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f")
    [[ -n $uri ]] || uri=$(awk '/^URIs:/{print $2}' "$f" | grep -v -- '-security' | grep '/debian' | head -1 || true)
    [[ -n $uri ]] && break
  done
  if [[ -z $uri && -r /etc/apt/sources.list ]]; then
    uri=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' /etc/apt/sources.list | grep -v -- '-security' | head -1 || true)
  fi
  [[ -n $uri ]] || die "could not find the Debian archive URI in /etc/apt/sources.list.d/*.sources"
  log "archive URI: $uri"

  mkdir -p "$APT_HOME/etc/sources.list.d" "$APT_HOME/etc/preferences.d" \
           "$APT_HOME/lists/partial" "$APT_HOME/cache/archives/partial" "$DEBS"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  cat > "$APT_HOME/etc/sources.list" <<EOF
deb [signed-by=$keyring] $uri trixie main
deb [signed-by=$keyring] $uri sid main
EOF
  : > "$APT_HOME/etc/preferences"
  # Dir::State::status is left at the system's on purpose: apt needs to see
  # what is installed, but this config can only download, never install.
  cat > "$APT_HOME/apt.conf" <<EOF
Dir::Etc::SourceList "$APT_HOME/etc/sources.list";
Dir::Etc::SourceParts "$APT_HOME/etc/sources.list.d";
Dir::Etc::Preferences "$APT_HOME/etc/preferences";
Dir::Etc::PreferencesParts "$APT_HOME/etc/preferences.d";
Dir::State::Lists "$APT_HOME/lists";
Dir::Cache "$APT_HOME/cache";
APT::Sandbox::User "root";
EOF
  export APT_CONFIG="$APT_HOME/apt.conf"
  apt-get update -qq || die "private apt-get update (trixie/sid) failed"

  for spec in "${need_unpack[@]}"; do
    name=${spec%%:*}; pkgsuite=${spec#*:}
    # (awk reads to the end: an early exit would SIGPIPE apt-cache under pipefail)
    ver=$(apt-cache show "$pkgsuite" 2>/dev/null | awk '/^Version:/ && v == "" {v = $2} END {print v}')
    [[ -n $ver ]] || die "no $pkgsuite in the private apt lists"
    pkg=${pkgsuite%/*}
    deb="$DEBS/${pkg}_${ver//:/%3a}_$(dpkg --print-architecture).deb"
    if [[ ! -s $deb ]]; then
      (cd "$DEBS" && apt-get download -q "$pkgsuite" > /dev/null) || die "apt-get download $pkgsuite failed"
    fi
    [[ -s $deb ]] || deb=$(find "$DEBS" -maxdepth 1 -name "${pkg}_*.deb" -printf '%T@ %p\n' | sort -rn | sed -n '1s/^[^ ]* //p')
    tmp="$PKGS/.$name.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
    dpkg -x "$deb" "$tmp"
    echo "$ver" > "$tmp/.deb-version"
    rm -rf "${PKGS:?}/$name"; mv "$tmp" "$PKGS/$name"
    rm -f "$deb"   # unpacked; the .deb is not needed any more
    log "  $name <- $pkgsuite $ver"
  done
  unset APT_CONFIG
  step_done
else
  step_skip "already unpacked: $(for s in "${UNPACK[@]}"; do n=${s%%:*}; printf '%s=%s ' "$n" "$(cat "$PKGS/$n/.deb-version")"; done)"
fi

# docker.io >= 26 ships usr/bin/docker-init -> tini-static (from package
# tini-static, not unpacked here). Point it at bookworm's /usr/bin/tini-static
# (package tini) so `--init` works and the link is not dangling.
for name in docker-26 docker-28; do
  di="$PKGS/$name/usr/bin/docker-init"
  if [[ -L $di && ! -e $di && -x /usr/bin/tini-static ]]; then ln -sfn /usr/bin/tini-static "$di"; fi
done
for name in docker-26 docker-28; do
  "$PKGS/$name/usr/sbin/dockerd" --version > /dev/null || die "$PKGS/$name/usr/sbin/dockerd does not run here"
done

# Throwaway DOCKER_CONFIG: cli-plugins/docker-buildx (sid buildx) for
# side-by-side benchmarks; auth for the htpasswd registry is added by up.sh.
mkdir -p "$DOCKER_CONFIG_DIR/cli-plugins"
ln -sfn "$PKGS/buildx/usr/libexec/docker/cli-plugins/docker-buildx" "$DOCKER_CONFIG_DIR/cli-plugins/docker-buildx"

# ---- 3. busybox base rootfs + docker-load archive ---------------------------
BASE_RECIPE=2   # bump when the rootfs layout below changes
stamp="$(sha256sum /bin/busybox | cut -c1-64) recipe=$BASE_RECIPE arch=$(dpkg --print-architecture)"
step "busybox base rootfs"
if [[ -s $BASE_ROOTFS && -s $BASE_IMAGE_TAR && -s $BASE_IMAGE_ID_FILE && "$(cat "$NXBK_HOME/base.stamp" 2>/dev/null)" == "$stamp" ]]; then
  step_skip "up to date"
else
  work=$(mktemp -d "$NXBK_HOME/.base.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  r="$work/rootfs"
  mkdir -p "$r"/{bin,etc,root,tmp,dev,proc,sys,var,home,usr/bin}
  cp /bin/busybox "$r/bin/busybox"
  # One symlink per applet (sh, cat, ls, echo, mkdir, test, wc, ...), all in /bin.
  for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$r/bin/$a"
  done
  ln -s ../../bin/busybox "$r/usr/bin/env"   # for `#!/usr/bin/env sh`
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  chmod 755 "$r" "$r"/{bin,etc,root,dev,proc,sys,var,home,usr,usr/bin} "$r/bin/busybox"
  chmod 644 "$r/etc/passwd" "$r/etc/group"
  chmod 1777 "$r/tmp"
  # Deterministic tar: fixed order, owner and mtime -> same bytes every time.
  TARFLAGS=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)
  tar -C "$r" "${TARFLAGS[@]}" -cf "$work/base-rootfs.tar" .

  # `docker load` archive (docker save v1.2 layout) with a fixed config, so the
  # image ID (= config digest) is the same on every engine and every run.
  img="$work/image"; mkdir -p "$img"
  diff_id=$(sha256sum "$work/base-rootfs.tar" | cut -c1-64)
  mkdir -p "$img/$diff_id"; cp "$work/base-rootfs.tar" "$img/$diff_id/layer.tar"
  arch=$(dpkg --print-architecture)
  printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"nx-buildkit e2e: busybox-static rootfs"}],"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$diff_id" > "$img/config.json"
  cfg=$(sha256sum "$img/config.json" | cut -c1-64)
  mv "$img/config.json" "$img/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$BASE_IMAGE" "$diff_id" > "$img/manifest.json"
  printf '{"%s":{"%s":"%s"}}' "${BASE_IMAGE%:*}" "${BASE_IMAGE#*:}" "$cfg" > "$img/repositories"
  tar -C "$img" "${TARFLAGS[@]}" -cf "$work/base-image.tar" .

  mv -f "$work/base-rootfs.tar" "$BASE_ROOTFS"
  mv -f "$work/base-image.tar" "$BASE_IMAGE_TAR"
  echo "sha256:$cfg" > "$BASE_IMAGE_ID_FILE"
  echo "$stamp" > "$NXBK_HOME/base.stamp"
  rm -rf "$work"; trap - EXIT
  step_done "$(du -h "$BASE_ROOTFS" | cut -f1), image sha256:${cfg:0:12}"
fi

touch "$NXBK_HOME/.installed"
[[ -n "${NXBK_QUIET:-}" ]] || log "install complete in $(awk -v a="$T_ALL" -v b="$(_t0)" 'BEGIN{printf "%.1fs", b-a}') (state: $NXBK_HOME)"
