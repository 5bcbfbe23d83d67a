#!/usr/bin/env bash
# scripts/localstack-image.sh [--rebuild]
#
# Builds (or reuses) a LocalStack image without any image registry, for the
# `localstack` backend on machines that cannot pull from Docker Hub. Prints the
# image's name on stdout (set it as LOCKGRADER_LOCALSTACK_IMAGE); timings and
# sizes go to stderr. Needs a running engine (DOCKER_HOST, e.g. from
# scripts/docker-engine.sh start) and, the first time, root for debootstrap.
#
#   1. a Debian trixie root file system: debootstrap --variant=minbase from the
#      machine's configured Debian mirror, with python3 (3.13), python3-venv and
#      ca-certificates; apt's caches removed; cached as a tar file in
#      ~/.cache/lockgrader/localstack/ (so a new engine data root needs no
#      debootstrap), and `docker import`ed as lockgrader/trixie-minbase:python3;
#   2. a container of it (host network, as every container here) creates a venv
#      in /opt/localstack and installs containers/localstack-local/requirements.txt
#      with pip --require-hashes: localstack-core[runtime]==2026.3.0 and its
#      dependencies as they were on its release date. pip's download cache is
#      kept in ~/.cache/lockgrader/localstack/pip;
#   3. `docker commit` makes it lockgrader/localstack:2026.3.0, labelled with the
#      recipe's hash (this script + requirements.txt): the next run reuses the
#      image when the hash matches and rebuilds it when the recipe changed.
#
# The image has no DynamoDB Local (LocalStack downloads it at run time, from a
# host this machine cannot reach, and its licence is not open source): its label
# dev.lockgrader.localstack.dynamodb says so, and the backend serves DynamoDB
# from the embedded emulator instead (docs/backends.md).
#
# Environment: LOCKGRADER_CACHE_DIR, LOCKGRADER_DEBIAN_MIRROR (default: the mirror
# apt uses for this machine's Debian), LOCKGRADER_LOCALSTACK_LOCAL_IMAGE (the tag).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${LOCKGRADER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lockgrader}"
cache="$cache_root/localstack"
recipe_dir="$here/containers/localstack-local"
image="${LOCKGRADER_LOCALSTACK_LOCAL_IMAGE:-lockgrader/localstack:2026.3.0}"
base_image="lockgrader/trixie-minbase:python3"
rootfs_tar="$cache/trixie-minbase-python3.tar"
log() { echo "${LOCKGRADER_LOG_PREFIX:-localstack-image}: $*" >&2; }
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

rebuild=""
[ "${1:-}" = --rebuild ] && rebuild=1

docker version >/dev/null 2>&1 || { log "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one: eval \"\$(scripts/docker-engine.sh start)\""; exit 1; }
mkdir -p "$cache"
debootstrap_packages=python3,python3-venv,ca-certificates
# What runs in the build container, and what the commit sets.
build_script='
set -e
if [ -s /tmp/host-ca.crt ]; then export PIP_CERT=/tmp/host-ca.crt; fi
python3 -m venv /opt/localstack
/opt/localstack/bin/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r /tmp/requirements.txt
/opt/localstack/bin/python -c "import localstack.constants as c; print(\"localstack\", c.VERSION)"
mkdir -p /var/lib/localstack /tmp/localstack
'
commit_changes=(
  'ENV PATH=/opt/localstack/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV GATEWAY_SERVER=hypercorn DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1'
  'EXPOSE 4566'
  'CMD ["python", "-m", "localstack.runtime.main"]'
  'LABEL dev.lockgrader.localstack.version=2026.3.0'
  'LABEL dev.lockgrader.localstack.dynamodb="unavailable: this image has no DynamoDB Local (LocalStack downloads it at run time, and its licence is not open source)"'
  'LABEL org.opencontainers.image.description="LocalStack community 2026.3.0 on Debian trixie minbase, built by lockgrader scripts/localstack-image.sh without a registry"'
)
# The image is rebuilt when any of this changes (not when comments or logging do).
recipe="$(printf '%s\n' "$debootstrap_packages" "$build_script" "${commit_changes[@]}" | cat - "$recipe_dir/requirements.txt" | sha256sum | cut -c1-16)"
total_started="$(now_ms)"

if [ -z "$rebuild" ] && [ "$(docker image inspect --format '{{ index .Config.Labels "dev.lockgrader.recipe" }}' "$image" 2>/dev/null)" = "$recipe" ]; then
  log "reusing $image (recipe $recipe, $(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
  echo "$image"
  exit 0
fi

# The mirror apt uses for this machine's Debian release (not its security archive).
debian_mirror() {
  [ -n "${LOCKGRADER_DEBIAN_MIRROR:-}" ] && { echo "$LOCKGRADER_DEBIAN_MIRROR"; return; }
  apt-cache policy 2>/dev/null | awk '$2 ~ /^https?:\/\// && $3 !~ /-(security|updates|backports)\// && $2 ~ /\/debian\/?$/ { print $2; exit }'
}

if [ -n "$rebuild" ] || ! docker image inspect "$base_image" >/dev/null 2>&1; then
  if [ -n "$rebuild" ] || [ ! -s "$rootfs_tar" ]; then
    LOCKGRADER_LOG_PREFIX="${LOCKGRADER_LOG_PREFIX:-localstack-image}" bash "$here/scripts/system-packages.sh" debootstrap || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
    mirror="$(debian_mirror)"
    [ -n "$mirror" ] || { log "no Debian mirror found in apt's sources; set LOCKGRADER_DEBIAN_MIRROR"; exit 1; }
    started="$(now_ms)"
    rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap --variant=minbase trixie from $mirror ($debootstrap_packages)"
    if ! debootstrap --variant=minbase --include="$debootstrap_packages" trixie "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1; then
      log "debootstrap failed; the end of $cache/debootstrap.log:"; tail -n 20 "$cache/debootstrap.log" >&2; exit 1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    tar --numeric-owner -C "$rootfs" -cf "$rootfs_tar.tmp" .
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$rootfs"
    trap - EXIT
    log "debootstrap took $(seconds_since "$started") s; root file system $(du -m "$rootfs_tar" | cut -f1) MB ($rootfs_tar)"
  fi
  started="$(now_ms)"
  docker import --change 'CMD ["/bin/bash"]' "$rootfs_tar" "$base_image" >/dev/null
  log "docker import of the root file system took $(seconds_since "$started") s"
fi

previous="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
started="$(now_ms)"
builder="lockgrader-localstack-build-$$"
trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
mkdir -p "$cache/pip"
# pip inside the container trusts what the machine's own clients trust (a site
# may inspect TLS with its own authority): the host's CA bundle is mounted for
# the build only, never kept in the image.
ca_bundle="${LOCKGRADER_CA_BUNDLE:-${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}"
ca_mount=()
[ -s "$ca_bundle" ] && ca_mount=(-v "$ca_bundle:/tmp/host-ca.crt:ro")
log "installing localstack-core[runtime]==2026.3.0 and its pinned dependencies ($(grep -c '^[a-z0-9].*==' "$recipe_dir/requirements.txt") packages, hashes checked)"
if ! docker run --name "$builder" --network host \
  -v "$cache/pip:/root/.cache/pip" -v "$recipe_dir/requirements.txt:/tmp/requirements.txt:ro" "${ca_mount[@]}" \
  "$base_image" /bin/sh -c "$build_script" >"$cache/pip-install.log" 2>&1; then
  log "installing LocalStack in the image failed; the end of $cache/pip-install.log:"; tail -n 30 "$cache/pip-install.log" >&2; exit 1
fi
installed="$(tail -n 1 "$cache/pip-install.log")"
[ "$installed" = "localstack 2026.3.0" ] || { log "the image's LocalStack says \"$installed\", not \"localstack 2026.3.0\""; exit 1; }
changes=(--change "LABEL dev.lockgrader.recipe=$recipe")
for change in "${commit_changes[@]}"; do changes+=(--change "$change"); done
docker commit "${changes[@]}" "$builder" "$image" >/dev/null
docker rm -f "$builder" >/dev/null
trap - EXIT
# The image this replaces (an older recipe), now untagged.
[ -z "$previous" ] || [ "$previous" = "$(docker image inspect --format '{{.Id}}' "$image")" ] || docker rmi "$previous" >/dev/null 2>&1 || true
log "installed and committed in $(seconds_since "$started") s"
log "$image ready in $(seconds_since "$total_started") s: image $(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'); cache $(du -sh "$cache" | cut -f1) ($cache)"
echo "$image"
