#!/usr/bin/env bash
# scripts/system-packages.sh [--check] [COMMAND=PACKAGE | PACKAGE]...
#
# Makes sure the Debian packages grading needs are installed:
#   bubblewrap  (bwrap: the learner-script sandbox)
#   socat       (the sandbox's only network: relays to the backend)
#   awscli      (an AWS CLI v2, which learner scripts get as `aws`; a v1 does not count)
#   jq          (learner scripts get it)
#   python3-venv (a python3 with venv: scripts/install-moto.sh makes moto's private venv with it)
#   iproute2    (ss: which sandbox process sent each backend request, src/learner/connection-sender.ts)
#   util-linux  (nsenter: ss runs in the sandbox's network namespace)
# plus any extra ones named on the command line (`chromium`, `redis-server`, or
# `COMMAND=PACKAGE` when the command is named differently). Installing
# Debian's redis-server starts no service on these machines (their policy-rc.d
# forbids it); the queue tests start their own and stop it by PID.
#
# Only what is missing is installed, with apt-get, quietly (apt's output goes to
# a log file that is shown only when it fails) and with one log line. When not
# root or without apt-get it prints what is missing and how to install it.
# --check: only print what is missing (nothing is installed).
# Exit status: 0 when nothing is missing at the end, 1 otherwise.
# LOCKGRADER_QUIET_BOOTSTRAP=1 silences every line it would print.
set -uo pipefail

check_only=
if [ "${1:-}" = --check ]; then check_only=1; shift; fi
log() { [ -n "${LOCKGRADER_QUIET_BOOTSTRAP:-}" ] || echo "${LOCKGRADER_LOG_PREFIX:-system-packages}: $*" >&2; }

# An AWS CLI v2 on this machine (what src/learner/tools.ts resolveAwsCliV2 finds):
# cheap checks first (Debian's package, AWS's installer), then `--version` of
# every `aws` on PATH except pyenv shims (those are AWS CLI v1 here).
has_aws_cli_v2() {
  local version candidate
  version="$(dpkg-query -W -f='${Status} ${Version}' awscli 2>/dev/null || true)"
  case "$version" in "install ok installed 2."*) [ -x /usr/bin/aws ] && return 0 ;; esac
  [ -x /usr/local/aws-cli/v2/current/bin/aws ] && return 0
  while IFS= read -r candidate; do
    case "$candidate" in */shims/*) continue ;; esac
    case "$(timeout 20 "$candidate" --version 2>&1 </dev/null)" in aws-cli/2.*) return 0 ;; esac
  done < <(type -ap aws 2>/dev/null)
  return 1
}

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v socat >/dev/null 2>&1 || missing+=(socat)
has_aws_cli_v2 || missing+=(awscli)
command -v jq >/dev/null 2>&1 || missing+=(jq)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
for extra in "$@"; do
  command="${extra%%=*}"
  package="${extra#*=}"
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

how="apt-get install -y ${missing[*]}"
if [ -n "$check_only" ]; then
  log "missing Debian packages: ${missing[*]} (install with: $how)"
  exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  why="not root"; command -v apt-get >/dev/null 2>&1 || why="no apt-get"
  log "missing ${missing[*]} ($why, not installing); install with: sudo $how (or your system's packages for bubblewrap, socat, AWS CLI v2 and jq). Without bubblewrap, grading runs learner scripts only with --no-sandbox."
  exit 1
fi

log "installing ${missing[*]} from Debian (apt-get)"
apt_log="$(mktemp "${TMPDIR:-/tmp}/lockgrader-apt.XXXXXX")"
trap 'rm -f "$apt_log"' EXIT
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${missing[@]}" >>"$apt_log" 2>&1
}
# Package lists may be absent (a fresh image) or stale (a 404): refresh them only then.
if ! apt_install; then
  apt-get update -qq >>"$apt_log" 2>&1
  if ! apt_install; then
    log "apt-get could not install ${missing[*]}; its last lines:"
    [ -n "${LOCKGRADER_QUIET_BOOTSTRAP:-}" ] || tail -n 15 "$apt_log" >&2
    exit 1
  fi
fi
exit 0
