#!/usr/bin/env bash
# npm run cluster:up — a real control plane on loopback for the tests and the demo:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler (built from Go modules), KWOK
# simulating 3 nodes and their pods, and CoreDNS serving cluster.local from the live API.
# Reuses a running cluster. Writes its kubeconfig to $STATE_DIR/kubeconfig (printed at the end).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$CLUSTER_SCRIPTS/build.sh"

command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH; kwokctl and the tests need it (install kubectl, any version >= 1.30)."
if [ ! -x /usr/bin/nslookup ] || [ ! -x /usr/bin/dig ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing bind9-dnsutils (nslookup, dig) for in-pod DNS lookups"
    (apt-get install -y -qq bind9-dnsutils >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bind9-dnsutils >/dev/null 2>&1; }) ||
      die "could not install bind9-dnsutils with apt-get; install it (it provides /usr/bin/nslookup and /usr/bin/dig)"
  else
    die "/usr/bin/nslookup and /usr/bin/dig are missing: install your distribution's bind9 DNS utilities (Debian: bind9-dnsutils)"
  fi
fi

export KWOK_WORKDIR="$STATE_DIR/kwok"
KWOKCTL=("$BIN_DIR/kwokctl" --name "$CLUSTER_NAME")

healthy() {
  [ -f "$KUBECONFIG_OUT" ] && kubectl --kubeconfig "$KUBECONFIG_OUT" get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_coredns() {
  local pidf="$STATE_DIR/coredns.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then return 0; fi
  local port
  port=$(free_port)
  printf 'KSTS_DNS_SERVER=127.0.0.1\nKSTS_DNS_PORT=%s\n' "$port" >"$STATE_DIR/pod-bin/dns.env"
  cat >"$STATE_DIR/Corefile" <<COREFILE
cluster.local:$port {
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG_OUT
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
}
COREFILE
  GOMEMLIMIT=200MiB nohup "$BIN_DIR/coredns" -conf "$STATE_DIR/Corefile" >"$STATE_DIR/coredns.log" 2>&1 &
  echo $! >"$pidf"
  for _ in $(seq 1 50); do
    if /usr/bin/dig -p "$port" @127.0.0.1 +time=1 +tries=1 kubernetes.default.svc.cluster.local A +short 2>/dev/null | grep -qE '^[0-9.]+$'; then
      log "coredns serving cluster.local on 127.0.0.1:$port"
      return 0
    fi
    kill -0 "$(cat "$pidf")" 2>/dev/null || { tail -n 20 "$STATE_DIR/coredns.log" >&2; die "coredns exited (log: $STATE_DIR/coredns.log)"; }
    sleep 0.2
  done
  tail -n 20 "$STATE_DIR/coredns.log" >&2
  die "coredns did not answer for kubernetes.default.svc.cluster.local on port $port (log: $STATE_DIR/coredns.log)"
}

# The namespace reconciler (ns-exec.sh): a ClusterExec per namespace, then its default
# ServiceAccount. Restarted here whenever it is not running (a reused cluster included).
start_ns_exec() {
  local pidf="$STATE_DIR/ns-exec.pid" pid
  pid=$(cat "$pidf" 2>/dev/null || true)
  if [ -n "$pid" ] && grep -qa 'ns-exec.sh' "/proc/$pid/cmdline" 2>/dev/null; then return 0; fi
  cp "$CLUSTER_SCRIPTS/ns-exec.sh" "$STATE_DIR/ns-exec.sh"
  # Its own session (setsid), so down.sh can stop it and its kubectl watch as one process group.
  rm -f "$pidf"
  setsid bash "$STATE_DIR/ns-exec.sh" "$KUBECONFIG_OUT" "$(command -v kubectl)" "$pidf" </dev/null >>"$STATE_DIR/ns-exec.log" 2>&1 &
  for _ in $(seq 1 50); do [ -s "$pidf" ] && break; sleep 0.1; done
  [ -s "$pidf" ] || { tail -n 20 "$STATE_DIR/ns-exec.log" >&2; die "the namespace reconciler did not start (log: $STATE_DIR/ns-exec.log)"; }
  log "namespace reconciler running (pid $(cat "$pidf"), log $STATE_DIR/ns-exec.log)"
}

print_summary() {
  log "ready: $(kubectl --kubeconfig "$KUBECONFIG_OUT" get nodes --no-headers 2>/dev/null | wc -l) nodes"
  log "kubeconfig: $KUBECONFIG_OUT"
  log "try: KUBECONFIG=$KUBECONFIG_OUT kubectl get nodes"
  echo "$KUBECONFIG_OUT"
}

mkdir -p "$STATE_DIR"
if healthy; then
  log "cluster $CLUSTER_NAME is already running; reusing it"
  start_ns_exec
  if ! grep -q 'serviceaccount-controller' "$STATE_DIR/kwok.yaml" 2>/dev/null; then
    log "note: this cluster was started by an older cluster:up (its serviceaccount-controller runs), so a pod in a"
    log "      namespace created from now on could be exec'd before its ClusterExec exists; to close that window:"
    log "      npm run cluster:down && npm run cluster:up"
  fi
  start_coredns
  print_summary
  exit 0
fi
if [ -d "$KWOK_WORKDIR/clusters/$CLUSTER_NAME" ]; then
  log "removing the stopped cluster $CLUSTER_NAME left from an earlier run"
  "${KWOKCTL[@]}" delete cluster --kubeconfig "$KUBECONFIG_OUT" >/dev/null 2>&1 || true
  rm -rf "$KWOK_WORKDIR/clusters/$CLUSTER_NAME"
fi
if [ -f "$STATE_DIR/coredns.pid" ]; then kill "$(cat "$STATE_DIR/coredns.pid")" 2>/dev/null || true; rm -f "$STATE_DIR/coredns.pid"; fi
stop_ns_exec

# The pod-side command wrappers are copied out of the clone, so a cluster outlives the checkout that started it.
rm -rf "$STATE_DIR/pod-bin"
cp -r "$CLUSTER_SCRIPTS/pod-bin" "$STATE_DIR/pod-bin"
printf 'KSTS_DNS_SERVER=127.0.0.1\nKSTS_DNS_PORT=0\n' >"$STATE_DIR/pod-bin/dns.env"

cat >"$STATE_DIR/kwok.yaml" <<CONFIG
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  kubeVersion: $KUBE_VERSION
  runtime: binary
  etcdBinary: $BIN_DIR/etcd
  kubeApiserverBinary: $BIN_DIR/kube-apiserver
  kubeControllerManagerBinary: $BIN_DIR/kube-controller-manager
  kubeSchedulerBinary: $BIN_DIR/kube-scheduler
  kwokControllerBinary: $BIN_DIR/kwok
  kubectlBinary: $(command -v kubectl)
  enableCRDs: [Exec, ClusterExec]
  disableQPSLimits: true
componentsPatches:
- name: etcd
  extraEnvs: [{name: GOMEMLIMIT, value: 400MiB}]
- name: kube-apiserver
  extraEnvs: [{name: GOMEMLIMIT, value: 700MiB}]
- name: kube-controller-manager
  extraEnvs: [{name: GOMEMLIMIT, value: 300MiB}]
  # A namespace's default ServiceAccount comes from ns-exec.sh, after the namespace's ClusterExec.
  # One instance, no failover peer: with leader election it exits for good when the apiserver is
  # away longer than the lease's renew deadline (10s), and nothing restarts it (no kubelet here).
  extraArgs: [{key: controllers, value: "*,-serviceaccount-controller"}, {key: leader-elect, value: "false"}]
- name: kube-scheduler
  extraEnvs: [{name: GOMEMLIMIT, value: 150MiB}]
  extraArgs: [{key: leader-elect, value: "false"}]
- name: kwok-controller
  extraEnvs: [{name: GOMEMLIMIT, value: 200MiB}]
CONFIG

log "starting the control plane (kube $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, coredns $COREDNS_VERSION)"
start=$(date +%s)
# kwok-controller inherits this PATH: pod execs find the wrappers in pod-bin first.
if ! PATH="$STATE_DIR/pod-bin:$BIN_DIR:$PATH" "${KWOKCTL[@]}" create cluster -c "$STATE_DIR/kwok.yaml" \
  --kubeconfig "$KUBECONFIG_OUT" --wait 3m >"$STATE_DIR/create.log" 2>&1; then
  tail -n 30 "$STATE_DIR/create.log" >&2
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
    f="$KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs/$c.log"
    [ -f "$f" ] && { printf '\n--- %s (last 15 lines of %s)\n' "$c" "$f" >&2; tail -n 15 "$f" >&2; }
  done
  die "the control plane did not start (kwokctl log: $STATE_DIR/create.log; component logs: $KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs)"
fi
KCTL=(kubectl --kubeconfig "$KUBECONFIG_OUT")

# Three fake nodes, labelled like real ones (kubernetes.io/hostname), filled in by KWOK.
for i in 0 1 2; do
  cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64, topology.kubernetes.io/zone: zone-$i}
NODE
done | "${KCTL[@]}" apply -f - >/dev/null

# Pod exec runs the command locally (under pod-bin's wrappers), told its pod's namespace by a
# ClusterExec per namespace, which the namespace reconciler makes for every namespace, present and
# future, before the namespace's default ServiceAccount (so before any pod can exist there).
start_ns_exec

"${KCTL[@]}" wait --for=condition=Ready node --all --timeout=120s >/dev/null ||
  die "the fake nodes did not become Ready (kwok-controller log: $KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs/kwok-controller.log)"
for i in $(seq 1 120); do
  "${KCTL[@]}" -n default get serviceaccount default >/dev/null 2>&1 && break
  [ "$i" -lt 120 ] || { tail -n 20 "$STATE_DIR/ns-exec.log" >&2; die "the namespace reconciler did not set up namespace default within 60s (log: $STATE_DIR/ns-exec.log)"; }
  sleep 0.5
done
start_coredns
log "control plane up in $(( $(date +%s) - start ))s"
print_summary
