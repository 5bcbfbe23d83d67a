#!/usr/bin/env bash
# scripts/install-moto.sh [--check]
#
# Installs moto's server (PyPI `moto[server]`, Apache-2.0), every package pinned
# by scripts/moto-requirements.txt, into a private virtual environment outside
# the checkout:
#     ${LOCKGRADER_CACHE_DIR:-~/.cache/lockgrader}/moto/<moto version>-<sha256 of the list, 12 hex>/venv
# keyed by the list's content, so a changed pin installs afresh and a fresh
# clone on the same machine reuses what is there. Prints the venv's python on
# stdout. src/backend/moto.ts finds the same folder the same way.
#
# --check: print the python when installed (exit 0), else exit 1; installs nothing.
# Needs a python3 (>= 3.9) with the venv module (Debian: python3-venv, which
# scripts/system-packages.sh installs) and PyPI (or PIP_FIND_LINKS / PIP_INDEX_URL).
# LOCKGRADER_PYTHON picks the python3 the venv is made from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/moto-requirements.txt"
cache_root="${LOCKGRADER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lockgrader}"
log() { [ -n "${LOCKGRADER_QUIET_BOOTSTRAP:-}" ] || echo "install-moto: $*" >&2; }

version="$(sed -n 's/^moto\(\[[a-z,]*\]\)\{0,1\}==\([^ ;]*\).*/\2/p' "$requirements")"
[ -n "$version" ] || { echo "install-moto: no moto==VERSION line in $requirements" >&2; exit 1; }
digest="$(sha256sum "$requirements" | cut -c1-12)"
dir="$cache_root/moto/$version-$digest"
python="$dir/venv/bin/python"
stamp="$dir/installed"

# Cheap (./dev runs this before every command): the stamp is written only after
# pip succeeded. `lockgrader doctor` starts the server for real.
installed() { [ -f "$stamp" ] && [ -x "$python" ]; }

if [ "${1:-}" = --check ]; then
  installed && { echo "$python"; exit 0; }
  exit 1
fi
if installed; then echo "$python"; exit 0; fi

base="${LOCKGRADER_PYTHON:-python3}"
command -v "$base" >/dev/null 2>&1 || { echo "install-moto: no $base on PATH (install python3 and python3-venv, or set LOCKGRADER_PYTHON)" >&2; exit 1; }
"$base" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)' >/dev/null 2>&1 || {
  echo "install-moto: $base ($("$base" --version 2>&1)) is older than 3.9 or has no venv/ensurepip module (Debian: apt-get install python3-venv)" >&2
  exit 1
}

mkdir -p "$cache_root/moto"
# One installer at a time per machine (two ./dev runs may start together).
exec 9>"$cache_root/moto/.install.lock"
flock 9
if installed; then echo "$python"; exit 0; fi

start=$(date +%s)
log "installing moto[server] $version into $dir (pinned by scripts/moto-requirements.txt; takes a minute the first time)"
rm -rf "$dir"
mkdir -p "$dir"
pip_log="$dir/pip.log"
if ! { "$base" -m venv "$dir/venv" && "$python" -m pip install --no-input --disable-pip-version-check -q -r "$requirements"; } >"$pip_log" 2>&1; then
  echo "install-moto: could not install moto; the last lines of $pip_log:" >&2
  tail -n 15 "$pip_log" >&2
  exit 1
fi
installed_python="$("$python" -c 'import sys; print(sys.version.split()[0])')"
printf '{"moto": "%s", "python": "%s", "requirements_sha256_12": "%s"}\n' "$version" "$installed_python" "$digest" >"$stamp"
log "installed moto $version (python $installed_python) in $(( $(date +%s) - start )) s"
echo "$python"
