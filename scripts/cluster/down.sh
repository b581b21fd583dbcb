#!/usr/bin/env bash
# npm run cluster:down — stops and removes the test cluster, its CoreDNS and its namespace reconciler. A no-op when none runs.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export KWOK_WORKDIR="$STATE_DIR/kwok"
if [ -f "$STATE_DIR/coredns.pid" ]; then
  kill "$(cat "$STATE_DIR/coredns.pid")" 2>/dev/null || true
  rm -f "$STATE_DIR/coredns.pid"
fi
stop_ns_exec
if [ -d "$KWOK_WORKDIR/clusters/$CLUSTER_NAME" ] && [ -x "$BIN_DIR/kwokctl" ]; then
  "$BIN_DIR/kwokctl" --name "$CLUSTER_NAME" delete cluster --kubeconfig "$KUBECONFIG_OUT" >/dev/null 2>&1 || true
  rm -rf "$KWOK_WORKDIR/clusters/$CLUSTER_NAME"
  rm -f "$KUBECONFIG_OUT"
  log "cluster $CLUSTER_NAME removed"
else
  log "no cluster $CLUSTER_NAME is running; nothing to do"
fi
