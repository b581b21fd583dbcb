#!/usr/bin/env bash
# Builds the control-plane binaries from Go modules into a cache outside the clone:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kwokctl, coredns.
# Idempotent: a component whose binary is already in $BIN_DIR is not rebuilt. The cache key
# (see lib.sh) is derived from versions.env, so a version bump rebuilds.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
SRC="$CACHE_ROOT/src-$VERSIONS_KEY"
mkdir -p "$BIN_DIR" "$SRC"

# run NAME CMD...: runs a build step, keeping its output; on failure names the step and shows the tail.
run() {
  local name=$1; shift
  local logf="$SRC/$name.log"
  if ! "$@" >>"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    if grep -qiE 'dial tcp|no such host|connection refused|i/o timeout|proxy' "$logf"; then
      die "building $name failed: the Go module proxy ($(go env GOPROXY)) did not answer. Command: $*  (full log: $logf)"
    fi
    die "building $name failed. Command: $*  (full log: $logf)"
  fi
}

have() { for b in "$@"; do [ -x "$BIN_DIR/$b" ] || return 1; done; }

# etcd, KWOK and CoreDNS are the same versions on both line sets: take a binary the other line
# already built (a hard link, or a copy across file systems) instead of building it again.
OTHER_BIN_DIR="$CACHE_ROOT/bin-$(versions_key "$([ "$KSTS_KUBE_LINE" = old ] && echo current || echo old)")"
share() {
  local b
  for b in "$@"; do
    [ -x "$BIN_DIR/$b" ] || [ ! -x "$OTHER_BIN_DIR/$b" ] ||
      ln -f "$OTHER_BIN_DIR/$b" "$BIN_DIR/$b" 2>/dev/null || cp "$OTHER_BIN_DIR/$b" "$BIN_DIR/$b"
  done
}
share etcd kwok kwokctl coredns

# Go is needed only when something is not built yet (a warm cache runs without it).
need_go() {
  command -v go >/dev/null 2>&1 ||
    die "Go is not installed: building $1 needs Go >= 1.26 on PATH (kube-apiserver $KUBE_VERSION requires it), or a cache with the binaries at $BIN_DIR"
}

build_etcd() {
  have etcd && return 0
  need_go "etcd $ETCD_VERSION"
  log "building etcd $ETCD_VERSION"
  local d="$SRC/etcd"; mkdir -p "$d"
  cat >"$d/go.mod" <<MOD
module ksts.local/etcdbuild

go 1.26.0
MOD
  (cd "$d" && run etcd go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
    && run etcd go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  have kwok kwokctl && return 0
  need_go "kwok $KWOK_VERSION"
  log "building kwok and kwokctl $KWOK_VERSION"
  run kwok env GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
}

build_coredns() {
  have coredns && return 0
  need_go "coredns $COREDNS_VERSION"
  log "building coredns $COREDNS_VERSION"
  run coredns env GOBIN="$BIN_DIR" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}

# staging_version MODULE v0.MINOR.PATCH: that version when the module proxy has it, else the
# newest listed v0.MINOR.P with P < PATCH (else the asked one, and `go mod tidy` names the gap).
staging_version() {
  local m=$1 want=$2 minor patch listed best
  if go list -m -json "$m@$want" >/dev/null 2>&1; then echo "$want"; return; fi
  listed=$(go list -m -versions "$m" 2>/dev/null | tr ' ' '\n' | tail -n +2)
  minor=$(echo "$want" | cut -d. -f1-2); patch=${want##*.}
  best=$(grep -E "^${minor//./\\.}\.[0-9]+$" <<<"$listed" | awk -F. -v p="$patch" '$3 < p' | sort -t. -k3,3n | tail -n 1)
  if [ -n "$best" ]; then
    log "note: the module proxy has no $m@$want; using $best (same minor)"
    echo "$best"
  else
    echo "$want"
  fi
}

build_kube() {
  have kube-apiserver kube-controller-manager kube-scheduler && return 0
  need_go "kubernetes $KUBE_VERSION"
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $KUBE_VERSION (cold: tens of minutes)"
  local d="$SRC/kube"; mkdir -p "$d"
  local modfile minor
  modfile=$(cd "$d" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$modfile" ] || die "could not download k8s.io/kubernetes@$KUBE_VERSION's go.mod through the Go module proxy ($(go env GOPROXY))"
  minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  {
    echo "module ksts.local/kubebuild"
    echo
    grep -E '^go [0-9]' "$modfile"
    grep -E '^godebug ' "$modfile" || true
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # Every staging module that upstream replaces with ./staging/src/... is pinned to its published v0.X.Y.
    # When the module proxy does not offer a module at exactly that patch (seen for v0.31.14 of
    # kube-scheduler, kube-controller-manager and endpointslice), the newest earlier patch of the
    # same minor stands in: staging modules change little within a minor. Each stand-in is logged.
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$modfile" |
      while read -r m; do echo "	$m => $m $(staging_version "$m" "v0.${KUBE_VERSION#v1.}")"; done
    echo ")"
  } >"$d/go.mod"
  cat >"$d/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$d" && run kube go mod tidy \
    && run kube go build -trimpath -ldflags "$ld" -o "$BIN_DIR/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
}

start=$(date +%s)
log "versions ($KSTS_KUBE_LINE line): kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, coredns $COREDNS_VERSION (cache: $BIN_DIR)"
build_etcd
build_kwok
build_coredns
build_kube
log "binaries ready in $BIN_DIR ($(( $(date +%s) - start ))s)"
