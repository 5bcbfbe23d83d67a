#!/usr/bin/env bash
# Builds an OpenTofu release from the Go module proxy and caches it outside the
# checkout, keyed by version. Prints the binary's path on stdout.
#
#   scripts/build-opentofu.sh            the pinned release (1.11.5; LOCKGRADER_TOFU_VERSION overrides)
#   scripts/build-opentofu.sh 1.6.3      another release (the binary matrix's older one)
#
# OpenTofu's go.mod may carry `replace` directives (1.7 .. 1.12: hashicorp/hcl/v2),
# so `go install pkg@version` refuses it; a small wrapper module that requires the
# release and repeats that release's own replace lines (read from its go.mod on the
# proxy) builds it the ordinary way (see docs/toolchain.md).
set -euo pipefail

version="${1:-${LOCKGRADER_TOFU_VERSION:-1.11.5}}"
version="${version#v}"
cache_root="${LOCKGRADER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lockgrader}"
out_dir="$cache_root/opentofu/v$version"
out="$out_dir/tofu"

if [ -x "$out" ] && "$out" version >/dev/null 2>&1; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  echo "build-opentofu: 'go' is not on PATH; install Go >= 1.25 or provide terraform/tofu (see README)" >&2
  exit 1
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
start=$(date +%s)
echo "build-opentofu: building OpenTofu v$version from the Go module proxy (takes minutes the first time)" >&2

# The release's own go.mod, from the proxy: its replace lines (single-line form and
# `replace ( ... )` blocks) are repeated in the wrapper; a replace that points at a
# local folder cannot be repeated and stops the build.
release_mod="$(GOFLAGS=-mod=mod go mod download -json "github.com/opentofu/opentofu@v$version" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[ -f "$release_mod" ] || { echo "build-opentofu: no go.mod for OpenTofu v$version on the module proxy" >&2; exit 1; }
replaces="$(awk '
  /^replace[[:space:]]*\($/ { block = 1; next }
  block && /^\)/ { block = 0; next }
  block && NF { sub(/^[[:space:]]+/, ""); print; next }
  /^replace[[:space:]]/ { sub(/^replace[[:space:]]+/, ""); print }
' "$release_mod")"
if grep -Eq '=>[[:space:]]*\.{1,2}/' <<<"$replaces"; then
  echo "build-opentofu: OpenTofu v$version replaces a module with a local folder; cannot build it as a dependency:" >&2
  echo "$replaces" >&2
  exit 1
fi

{
  echo "module lockgrader.local/opentofu-build"
  echo
  echo "go 1.25"
  echo
  echo "require github.com/opentofu/opentofu v$version"
  if [ -n "$replaces" ]; then
    echo
    echo "replace ("
    sed 's/^/	/' <<<"$replaces"
    echo ")"
  fi
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
GO

GOFLAGS=-mod=mod go mod tidy >&2
mkdir -p "$out_dir"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out.tmp" github.com/opentofu/opentofu/cmd/tofu >&2
mv "$out.tmp" "$out"
echo "build-opentofu: built $out in $(( $(date +%s) - start )) s" >&2
echo "$out"
