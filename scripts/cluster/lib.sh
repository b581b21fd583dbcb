# Shared helpers for the cluster scripts. Sourced, not executed.
set -euo pipefail

CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$CLUSTER_SCRIPTS/versions.env"

# KSTS_KUBE_LINE picks the line set: "current" (default, KUBE_VERSION) or "old" (KUBE_VERSION_OLD,
# the oldest supported minor). etcd, KWOK and CoreDNS are the same for both lines.
KSTS_KUBE_LINE="${KSTS_KUBE_LINE:-current}"
case "$KSTS_KUBE_LINE" in
  current) DEFAULT_CLUSTER_NAME=kubectl-sts ;;
  old) KUBE_VERSION="$KUBE_VERSION_OLD"; DEFAULT_CLUSTER_NAME=kubectl-sts-old ;;
  *) printf '[cluster] error: KSTS_KUBE_LINE=%s: expected "current" or "old"\n' "$KSTS_KUBE_LINE" >&2; exit 1 ;;
esac

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sts"
# versions_key LINE: the cache key of a line set, from its effective version lines (KUBE_VERSION is
# that line's kubernetes); the current line's key is the hash of the four lines as they always were.
versions_key() {
  local kube
  kube=$(. "$CLUSTER_SCRIPTS/versions.env"; if [ "$1" = old ]; then echo "$KUBE_VERSION_OLD"; else echo "$KUBE_VERSION"; fi)
  grep -E "^[A-Z_]+=" "$CLUSTER_SCRIPTS/versions.env" | grep -v '^KUBE_VERSION_OLD=' |
    sed "s/^KUBE_VERSION=.*/KUBE_VERSION=$kube/" | sha256sum | cut -c1-12
}
VERSIONS_KEY="$(versions_key "$KSTS_KUBE_LINE")"
BIN_DIR="$CACHE_ROOT/bin-$VERSIONS_KEY"
CLUSTER_NAME="${KSTS_CLUSTER_NAME:-$DEFAULT_CLUSTER_NAME}"
STATE_DIR="${KSTS_STATE_DIR:-$CACHE_ROOT/clusters/$CLUSTER_NAME}"
KUBECONFIG_OUT="$STATE_DIR/kubeconfig"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

# Stops the namespace reconciler (ns-exec.sh) of this cluster, if it runs: its whole process group
# (setsid made it a session leader), after checking that the recorded pid is still that script.
stop_ns_exec() {
  local pidf="$STATE_DIR/ns-exec.pid" pid
  pid=$(cat "$pidf" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa 'ns-exec.sh' "/proc/$pid/cmdline" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}
