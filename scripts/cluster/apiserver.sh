#!/usr/bin/env bash
# scripts/cluster/apiserver.sh stop|start|restart [SECONDS-DOWN] — stops and starts the test
# cluster's kube-apiserver alone (etcd, the controllers and KWOK keep running), for the
# fault-injection tests. The cluster is the one lib.sh names (KSTS_CLUSTER_NAME, default kubectl-sts).
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

running_pid() {
  [ -f "$PIDF" ] || return 1
  local pid
  pid="$(cat "$PIDF")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # The pid must still be an apiserver (pids are reused).
  [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" = kube-apiserver ] || return 1
  echo "$pid"
}

ready() {
  kubectl --kubeconfig "$KUBECONFIG_OUT" get --raw /readyz --request-timeout=2s >/dev/null 2>&1
}

record() {
  local pid="$1"
  mkdir -p "$REC"
  cp "/proc/$pid/cmdline" "$REC/cmdline"
  cp "/proc/$pid/environ" "$REC/environ"
  readlink "/proc/$pid/cwd" >"$REC/cwd"
}

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    [ -f "$REC/cmdline" ] || die "no kube-apiserver of cluster $CLUSTER_NAME is running (pid file $PIDF) and none was recorded; start the cluster with npm run cluster:up"
    log "kube-apiserver of $CLUSTER_NAME is already stopped"
    return 0
  fi
  record "$pid"
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

do_start() {
  if running_pid >/dev/null; then
    log "kube-apiserver of $CLUSTER_NAME is already running"
  else
    [ -f "$REC/cmdline" ] || die "nothing recorded to start: run '$0 stop' first (it records the command line of the running apiserver)"
    local -a args envs
    mapfile -d '' args <"$REC/cmdline"
    mapfile -d '' envs <"$REC/environ"
    local cwd
    cwd="$(cat "$REC/cwd")"
    # env execs the apiserver in place, so $! is its pid. Its stdio go to the log, never to our
    # caller's pipes (a test runner waiting for this script's output must not wait for the apiserver).
    (
      cd "$cwd"
      env -i "${envs[@]}" "${args[@]}" >>"$LOGF" 2>&1 </dev/null &
      printf %s "$!" >"$PIDF" # no newline: kwokctl parses it with Atoi
    )
    log "kube-apiserver of $CLUSTER_NAME started (pid $(cat "$PIDF"))"
  fi
  for _ in $(seq 1 300); do
    if ready; then
      log "kube-apiserver of $CLUSTER_NAME is ready"
      return 0
    fi
    running_pid >/dev/null || { tail -n 20 "$LOGF" >&2; die "kube-apiserver exited during start-up (log: $LOGF)"; }
    sleep 0.2
  done
  tail -n 20 "$LOGF" >&2
  die "kube-apiserver did not become ready within 60s (log: $LOGF)"
}

case "${1:-}" in
  stop) do_stop ;;
  start) do_start ;;
  restart)
    do_stop
    sleep "${2:-0}"
    do_start
    ;;
  *) die "usage: $0 stop|start|restart [SECONDS-DOWN]" ;;
esac
