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
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$modfile" |
      while read -r m; do echo "	$m => $m v0.${KUBE_VERSION#v1.}"; done
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
log "versions: kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, coredns $COREDNS_VERSION (cache: $BIN_DIR)"
build_etcd
build_kwok
build_coredns
build_kube
log "binaries ready in $BIN_DIR ($(( $(date +%s) - start ))s)"
