#!/usr/bin/env bash
# scripts/cluster/apiserver.sh stop|start|restart [SECONDS-DOWN]|compact-etcd — stops and starts
# the test cluster's kube-apiserver alone (etcd, the controllers and KWOK keep running), and
# forces an etcd compaction at the current revision, for the fault-injection tests. The cluster is the one lib.sh names (KSTS_CLUSTER_NAME, default kubectl-sts).
#
# Why not kwokctl: `kwokctl stop/start cluster` acts on every component, and after killing the
# apiserver alone `kwokctl start cluster` was seen to wait two minutes without bringing it back.
# Instead `stop` records the running apiserver's exact command line, environment and working
# directory from /proc (as kwokctl started it), then kills it; `start` re-executes that record,
# appends to the same log and writes the new pid into kwokctl's pid file, so `kwokctl delete
# cluster` (cluster:down) still stops it. `start` waits until /readyz answers ok (60s at most).
#   KSTS_APISERVER_SIGNAL  signal for stop (default KILL: a crash, connections cut mid-stream; TERM: a graceful stop)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CDIR="$STATE_DIR/kwok/clusters/$CLUSTER_NAME"
PIDF="$CDIR/pids/kube-apiserver.pid"
REC="$STATE_DIR/apiserver-record"
LOGF="$CDIR/logs/kube-apiserver.log"
SIG="${KSTS_APISERVER_SIGNAL:-KILL}"

# The pid of a running control-plane component (from kwokctl's pid file), or failure.
component_pid() {
  local c="$1" f="$CDIR/pids/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # The pid must still be that component (pids are reused).
  [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" = "$c" ] || return 1
  echo "$pid"
}
running_pid() { component_pid kube-apiserver; }

ready() {
  kubectl --kubeconfig "$KUBECONFIG_OUT" get --raw /readyz --request-timeout=2s >/dev/null 2>&1
}

# Records how a running component was started: command line, environment, working directory.
record() {
  local pid="$1" dir="${2:-$REC}"
  mkdir -p "$dir"
  cp "/proc/$pid/cmdline" "$dir/cmdline"
  cp "/proc/$pid/environ" "$dir/environ"
  readlink "/proc/$pid/cwd" >"$dir/cwd"
}

# Starts a component from its record, logging where kwokctl logs it; its pid goes to kwokctl's pid file.
launch() {
  local c="$1" dir="$2"
  local -a args envs
  mapfile -d '' args <"$dir/cmdline"
  mapfile -d '' envs <"$dir/environ"
  local cwd
  cwd="$(cat "$dir/cwd")"
  # env execs the component in place, so $! is its pid. Its stdio go to the log, never to our
  # caller's pipes (a test runner waiting for this script's output must not wait for it).
  (
    cd "$cwd"
    env -i "${envs[@]}" "${args[@]}" >>"$CDIR/logs/$c.log" 2>&1 </dev/null &
    printf %s "$!" >"$CDIR/pids/$c.pid" # no newline: kwokctl parses it with Atoi
  )
}

# The controller-manager and the scheduler after an apiserver kill, on this control plane:
# - with leader election (clusters started before up.sh turned it off) they exit for good when
#   they cannot renew their lease (10s into the outage), and no kubelet restarts them here;
# - without it, the controller-manager was seen (1 run in 3) to stall for minutes after the
#   apiserver came back: its StatefulSet sync kept failing with "read version N is not as new as
#   written version M" and no new event reached it, so no rollout could move.
# Neither is what the plugin is tested for, so `start` restarts both from their records, as a
# kubelet restarts crashed static pods (KSTS_RESTART_CONTROLLERS=0: only revive dead ones).
CONTROLLERS=(kube-controller-manager kube-scheduler)
record_controllers() {
  local c pid
  for c in "${CONTROLLERS[@]}"; do
    if pid="$(component_pid "$c")"; then record "$pid" "$REC/$c"; fi
  done
}
revive_controllers() {
  local c pid
  for c in "${CONTROLLERS[@]}"; do
    [ -f "$REC/$c/cmdline" ] || continue
    if pid="$(component_pid "$c")"; then
      [ "${KSTS_RESTART_CONTROLLERS:-1}" = 1 ] || continue
      kill -s TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -s KILL "$pid" 2>/dev/null || true
      launch "$c" "$REC/$c"
      log "$c of $CLUSTER_NAME restarted (pid $(cat "$CDIR/pids/$c.pid"))"
    else
      launch "$c" "$REC/$c"
      log "$c of $CLUSTER_NAME had exited; started again (pid $(cat "$CDIR/pids/$c.pid"))"
    fi
  done
}

# CoreDNS (run beside the control plane, outside KWOK) after an apiserver kill: its kubernetes
# plugin was seen to keep serving the records it had and never see a Service or pod created
# afterwards (NXDOMAIN for every new name; its log says only "watch ended with error"). In a real
# cluster its pod would be restarted by its liveness probe; here `start` restarts it on the same
# port (the pods' resolver wrappers keep their dns.env) and waits until it answers.
revive_coredns() {
  local pidf="$STATE_DIR/coredns.pid" port
  [ -f "$pidf" ] && [ -f "$STATE_DIR/Corefile" ] || return 0
  kill "$(cat "$pidf")" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$(cat "$pidf")" 2>/dev/null || break; sleep 0.1; done
  GOMEMLIMIT=200MiB nohup "$BIN_DIR/coredns" -conf "$STATE_DIR/Corefile" >>"$STATE_DIR/coredns.log" 2>&1 &
  echo $! >"$pidf"
  port=$(sed -n 's/^KSTS_DNS_PORT=//p' "$STATE_DIR/pod-bin/dns.env" 2>/dev/null)
  for _ in $(seq 1 50); do
    if [ -n "$port" ] && /usr/bin/dig -p "$port" @127.0.0.1 +time=1 +tries=1 kubernetes.default.svc.cluster.local A +short 2>/dev/null | grep -qE '^[0-9.]+$'; then
      log "coredns of $CLUSTER_NAME restarted (pid $(cat "$pidf"), port $port)"
      return 0
    fi
    sleep 0.2
  done
  log "warning: coredns of $CLUSTER_NAME did not answer after its restart (log: $STATE_DIR/coredns.log)"
}

# KWOK after an apiserver kill: its informers (pods, Exec objects) reconnect with client-go's
# backoff, and until they do a new pod stays Pending and a new Exec object is not used: seen in CI
# as "timed out after 30000ms waiting for KWOK to use the Exec for mongo-0" in the suite that ran
# after the fault suite. A node agent still catching up is not what the plugin is tested for, so
# `start` waits until KWOK runs a pod created now and execs in it with an Exec object created now
# (KSTS_KWOK_WAIT seconds, default 120), in the namespace ksts-probe, then removes that pod.
PROBE_NS=ksts-probe
kc() { kubectl --kubeconfig "$KUBECONFIG_OUT" --request-timeout=10s "$@"; }
wait_kwok() {
  local limit="${KSTS_KWOK_WAIT:-120}" t0=$SECONDS pod marker out
  pod="probe-$(date +%s)"
  marker="kwok-caught-up-$pod"
  kc get namespace "$PROBE_NS" >/dev/null 2>&1 || kc create namespace "$PROBE_NS" >/dev/null 2>&1 || true
  while :; do
    # A namespace's default ServiceAccount comes from the ns-exec reconciler, which may itself
    # still be reconnecting: retry the create until the pod is stored.
    out=$(printf '%s\n' \
      'apiVersion: v1' 'kind: Pod' "metadata: {name: $pod, namespace: $PROBE_NS}" \
      'spec:' '  tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]' \
      '  containers: [{name: c, image: probe}]' \
      '---' 'apiVersion: kwok.x-k8s.io/v1alpha1' 'kind: Exec' "metadata: {name: $pod, namespace: $PROBE_NS}" \
      'spec:' '  execs:' '  - local:' '      workDir: /tmp' "      envs: [{name: KSTS_EXEC_REV, value: $marker}, {name: KSTS_POD_NAMESPACE, value: $PROBE_NS}]" |
      kc apply -f - 2>&1) && break
    [ $((SECONDS - t0)) -lt "$limit" ] || { log "warning: could not create the KWOK probe pod in $PROBE_NS: $out"; return 0; }
    sleep 1
  done
  until [ "$(kc -n "$PROBE_NS" exec "$pod" -c c -- printenv KSTS_EXEC_REV 2>/dev/null)" = "$marker" ]; do
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      log "warning: KWOK had not caught up ${limit}s after the restart (pod $PROBE_NS/$pod: $(kc -n "$PROBE_NS" get pod "$pod" -o jsonpath='{.status.phase}' 2>&1))"
      return 0
    fi
    sleep 0.5
  done
  log "KWOK of $CLUSTER_NAME caught up $((SECONDS - t0))s after the restart (new pod running, new Exec used)"
  kc -n "$PROBE_NS" delete pod "$pod" --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
  kc -n "$PROBE_NS" delete execs.kwok.x-k8s.io "$pod" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    [ -f "$REC/cmdline" ] || die "no kube-apiserver of cluster $CLUSTER_NAME is running (pid file $PIDF) and none was recorded; start the cluster with npm run cluster:up"
    log "kube-apiserver of $CLUSTER_NAME is already stopped"
    return 0
  fi
  record "$pid"
  record_controllers
  kill -s "$SIG" "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { log "kube-apiserver of $CLUSTER_NAME stopped (pid $pid, SIG$SIG)"; return 0; }
    sleep 0.1
  done
  kill -s KILL "$pid" 2>/dev/null || true
  sleep 0.2
  kill -0 "$pid" 2>/dev/null && die "kube-apiserver (pid $pid) did not stop"
  log "kube-apiserver of $CLUSTER_NAME stopped (pid $pid, SIGKILL after SIG$SIG did not stop it in 10s)"
}

RESTARTED=0
do_start() {
  if running_pid >/dev/null; then
    log "kube-apiserver of $CLUSTER_NAME is already running"
  else
    [ -f "$REC/cmdline" ] || die "nothing recorded to start: run '$0 stop' first (it records the command line of the running apiserver)"
    launch kube-apiserver "$REC"
    RESTARTED=1
    log "kube-apiserver of $CLUSTER_NAME started (pid $(cat "$PIDF"))"
  fi
  for _ in $(seq 1 300); do
    if ready; then
      log "kube-apiserver of $CLUSTER_NAME is ready"
      if [ "$RESTARTED" = 1 ]; then revive_controllers; revive_coredns; wait_kwok; else KSTS_RESTART_CONTROLLERS=0 revive_controllers; fi
      return 0
    fi
    running_pid >/dev/null || { tail -n 20 "$LOGF" >&2; die "kube-apiserver exited during start-up (log: $LOGF)"; }
    sleep 0.2
  done
  tail -n 20 "$LOGF" >&2
  die "kube-apiserver did not become ready within 60s (log: $LOGF)"
}

# Compacts etcd's history up to its current revision (through etcd's HTTP gateway), so any watch
# that resumes from an older resourceVersion is answered 410 Gone once the apiserver re-reads etcd.
do_compact() {
  local port rev
  port="$(sed -n 's/^ *etcdPort: *\([0-9]*\).*/\1/p' "$CDIR/kwok.yaml" | head -n1)"
  [ -n "$port" ] || die "no etcdPort in $CDIR/kwok.yaml"
  rev="$(curl -fsS -X POST "http://127.0.0.1:$port/v3/kv/range" -d '{"key":"AA=="}' | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')"
  [ -n "$rev" ] || die "could not read etcd's revision on 127.0.0.1:$port"
  curl -fsS -X POST "http://127.0.0.1:$port/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null ||
    die "etcd refused to compact at revision $rev"
  log "etcd of $CLUSTER_NAME compacted at revision $rev"
  echo "$rev"
}

case "${1:-}" in
  stop) do_stop ;;
  start) do_start ;;
  restart)
    do_stop
    sleep "${2:-0}"
    do_start
    ;;
  compact-etcd) do_compact ;;
  *) die "usage: $0 stop|start|restart [SECONDS-DOWN]|compact-etcd" ;;
esac
