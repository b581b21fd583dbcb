#!/usr/bin/env bash
# Builds the release/Krew tools into a cache outside the clone, keyed by version, and prints
# the directory holding them (last line of stdout):
#   bash scripts/krew/build-tools.sh krew       -> krew, validate-krew-manifest (Go, sigs.k8s.io/krew)
#   bash scripts/krew/build-tools.sh rcodesign  -> rcodesign (Rust, crates.io apple-codesign): ad-hoc
#                                                  signing of the macOS release binaries
#   bash scripts/krew/build-tools.sh rcodesign --cached-only  -> the directory if already built, else exit 3
# Idempotent: a tool already in its cache directory is not rebuilt.
set -euo pipefail

# krew v0.4.5 is not served by the Go module proxy here; v0.4.4's go.mod (go 1.20) builds with Go 1.26.
KREW_VERSION=v0.4.4
APPLE_CODESIGN_VERSION=0.29.0

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sts/tools"
log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] error: %s\n' "$*" >&2; exit 1; }

build_krew() {
  local bin="$CACHE_ROOT/krew-$KREW_VERSION"
  if [ -x "$bin/krew" ] && [ -x "$bin/validate-krew-manifest" ]; then echo "$bin"; return 0; fi
  command -v go >/dev/null 2>&1 || die "Go is not installed (need Go on PATH to build krew $KREW_VERSION)"
  log "building krew and validate-krew-manifest $KREW_VERSION"
  local start src
  start=$(date +%s)
  src="$CACHE_ROOT/src-krew-$KREW_VERSION"
  mkdir -p "$src" "$bin.tmp"
  # A wrapper module: `go install pkg@version` would ask the proxy for the module's version
  # list (to report deprecations), which the proxy here refuses for sigs.k8s.io/krew.
  printf 'module ksts.local/krewbuild\n\ngo 1.26.0\n\nrequire sigs.k8s.io/krew %s\n' "$KREW_VERSION" >"$src/go.mod"
  if ! (cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin.tmp/" \
      sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest) >"$src/build.log" 2>&1; then
    tail -n 30 "$src/build.log" >&2
    die "building krew $KREW_VERSION failed (full log: $src/build.log)"
  fi
  rm -rf "$bin" && mv "$bin.tmp" "$bin"
  log "krew $KREW_VERSION ready in $bin ($(( $(date +%s) - start ))s)"
  echo "$bin"
}

build_rcodesign() {
  local root="$CACHE_ROOT/apple-codesign-$APPLE_CODESIGN_VERSION"
  if [ -x "$root/bin/rcodesign" ]; then echo "$root/bin"; return 0; fi
  command -v rcodesign >/dev/null 2>&1 && rcodesign --version 2>/dev/null | grep -q " $APPLE_CODESIGN_VERSION" &&
    { dirname "$(command -v rcodesign)"; return 0; }
  [ "${2:-}" = "--cached-only" ] && exit 3
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed: rcodesign (crates.io apple-codesign $APPLE_CODESIGN_VERSION) signs the macOS binaries; install Rust, or release without darwin targets (--targets)"
  log "building rcodesign (apple-codesign $APPLE_CODESIGN_VERSION): cold, this takes several minutes"
  local start
  start=$(date +%s)
  mkdir -p "$CACHE_ROOT"
  if ! cargo install --locked --root "$root.tmp" --version "$APPLE_CODESIGN_VERSION" apple-codesign >"$CACHE_ROOT/apple-codesign.log" 2>&1; then
    tail -n 30 "$CACHE_ROOT/apple-codesign.log" >&2
    die "building rcodesign failed (full log: $CACHE_ROOT/apple-codesign.log)"
  fi
  rm -rf "$root" && mv "$root.tmp" "$root"
  log "rcodesign ready in $root/bin ($(( $(date +%s) - start ))s)"
  echo "$root/bin"
}

case "${1:-}" in
  krew) build_krew ;;
  rcodesign) build_rcodesign "$@" ;;
  *) die "usage: build-tools.sh krew|rcodesign [--cached-only]" ;;
esac
