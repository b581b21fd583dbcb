# Shared helpers for the cluster scripts. Sourced, not executed.
set -euo pipefail

CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$CLUSTER_SCRIPTS/versions.env"

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-sts"
VERSIONS_KEY="$(grep -E "^[A-Z_]+=" "$CLUSTER_SCRIPTS/versions.env" | sha256sum | cut -c1-12)"
BIN_DIR="$CACHE_ROOT/bin-$VERSIONS_KEY"
CLUSTER_NAME="${KSTS_CLUSTER_NAME:-kubectl-sts}"
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
