#!/usr/bin/env bash
# Builds a pinned OpenTofu release from the Go module proxy and caches it
# outside the checkout, keyed by version. Prints the binary's path on stdout.
#
# OpenTofu's go.mod carries a `replace` directive, so `go install pkg@version`
# refuses it; a small wrapper module that requires the release and repeats its
# replace line builds it the ordinary way (see docs/toolchain.md).
set -euo pipefail

version="${LOCKGRADER_TOFU_VERSION:-1.11.5}"
# The replace line of that release's go.mod (same for 1.10.x .. 1.12.x).
hcl_replace="github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.20251021132045-587d123c2828"
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
cat > go.mod <<MOD
module lockgrader.local/opentofu-build

go 1.25

require github.com/opentofu/opentofu v$version

replace $hcl_replace
MOD
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
GO

start=$(date +%s)
echo "build-opentofu: building OpenTofu v$version from the Go module proxy (takes minutes the first time)" >&2
GOFLAGS=-mod=mod go mod tidy >&2
mkdir -p "$out_dir"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out.tmp" github.com/opentofu/opentofu/cmd/tofu >&2
mv "$out.tmp" "$out"
echo "build-opentofu: built $out in $(( $(date +%s) - start )) s" >&2
echo "$out"
