#!/usr/bin/env bash
# npm run cluster:status — versions, build cache, and whether the cluster, its namespace reconciler and CoreDNS are up.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
log "versions ($KSTS_KUBE_LINE line, cluster $CLUSTER_NAME): kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, coredns $COREDNS_VERSION"
if [ -x "$BIN_DIR/kube-apiserver" ] && [ -x "$BIN_DIR/etcd" ] && [ -x "$BIN_DIR/kwok" ] && [ -x "$BIN_DIR/coredns" ]; then
  log "binaries: built ($BIN_DIR)"
else
  log "binaries: not built yet ($BIN_DIR); cluster:up builds them"
fi
if [ -f "$KUBECONFIG_OUT" ] && kubectl --kubeconfig "$KUBECONFIG_OUT" get --raw /readyz --request-timeout=5s >/dev/null 2>&1; then
  log "cluster $CLUSTER_NAME: running; kubeconfig $KUBECONFIG_OUT"
  kubectl --kubeconfig "$KUBECONFIG_OUT" get nodes >&2
else
  log "cluster $CLUSTER_NAME: not running"
  exit 1
fi
pid=$(cat "$STATE_DIR/ns-exec.pid" 2>/dev/null || true)
if [ -n "$pid" ] && grep -qa 'ns-exec.sh' "/proc/$pid/cmdline" 2>/dev/null; then
  log "namespace reconciler (exec in every namespace): running (pid $pid, log $STATE_DIR/ns-exec.log)"
else
  log "namespace reconciler (exec in every namespace): not running; npm run cluster:up restarts it"
  exit 1
fi
if [ -f "$STATE_DIR/coredns.pid" ] && kill -0 "$(cat "$STATE_DIR/coredns.pid")" 2>/dev/null; then
  log "coredns: running ($(grep PORT "$STATE_DIR/pod-bin/dns.env"))"
else
  log "coredns: not running"
  exit 1
fi
