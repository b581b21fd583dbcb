#!/usr/bin/env bash
# The namespace reconciler of the test cluster: makes `kubectl exec` work in every namespace,
# including ones created at any time after `cluster:up` (kubectl create ns shop).
#
# Why it exists: KWOK (v0.8.0) runs a pod's exec as a local process and can hand it only the fixed
# `envs` of the first ClusterExec (by name) whose selector matches the pod; it passes nothing about
# the pod itself (no templating of envs, args or workDir). The pod-bin wrappers need the pod's
# namespace (its DNS search list), so each namespace needs its own ClusterExec `ns-<name>` with
# KSTS_POD_NAMESPACE=<name>; a catch-all would shadow them.
#
# No race: the cluster's kube-controller-manager runs without its serviceaccount-controller (see
# up.sh), and this reconciler creates a namespace's `default` ServiceAccount only AFTER its
# ClusterExec is stored. The API server admits no pod into a namespace before that ServiceAccount
# exists, so no pod can be exec'd before its namespace's ClusterExec is in place.
#
# Usage (up.sh starts it in its own session, pid in $STATE_DIR/ns-exec.pid; down.sh stops it):
#   ns-exec.sh KUBECONFIG KUBECTL PIDFILE
# Exits when KUBECONFIG is removed (cluster:down) or the API server has been unreachable for 10 min.
set -uo pipefail
KCFG=$1
KUBECTL=${2:-kubectl}
PIDFILE=${3:-}
MANAGED_BY=kubectl-sts-ns-exec

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
k() { "$KUBECTL" --kubeconfig "$KCFG" --request-timeout=30s "$@"; }

# Namespace names are DNS labels ([a-z0-9-]); quoted so that names like "true", "null" or "123"
# stay strings in YAML.
exec_doc() {
  printf -- '---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterExec\nmetadata:\n  name: "ns-%s"\n  labels: {app.kubernetes.io/managed-by: %s}\nspec:\n  selector:\n    matchNamespaces: ["%s"]\n  execs:\n  - local:\n      workDir: /tmp\n      envs: [{name: KSTS_POD_NAMESPACE, value: "%s"}]\n' \
    "$1" "$MANAGED_BY" "$1" "$1"
}
sa_doc() {
  printf -- '---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: "%s"\n' "$1"
}

# ensure NS...: the ClusterExec of each namespace, then (only where that succeeded) its default
# ServiceAccount. Batched: one kubectl for all ClusterExecs, one for all ServiceAccounts.
# Namespaces whose ClusterExec could not be applied are left in FAILED, to be retried.
FAILED=()
ensure() {
  local out ok=() n
  FAILED=()
  out=$(for n in "$@"; do exec_doc "$n"; done | k apply -f - 2>&1)
  for n in "$@"; do
    if grep -qE "^clusterexec\.kwok\.x-k8s\.io/ns-$n (created|configured|unchanged)$" <<<"$out"; then
      ok+=("$n")
    else
      FAILED+=("$n")
    fi
  done
  [ "${#FAILED[@]}" -eq 0 ] || log "ClusterExec not applied for ${FAILED[*]} (retrying; no ServiceAccount until then): $(head -n 5 <<<"$out")"
  [ "${#ok[@]}" -gt 0 ] || return 0
  # AlreadyExists is the normal case; a namespace that is being deleted refuses new objects.
  out=$(for n in "${ok[@]}"; do sa_doc "$n"; done | k create -f - 2>&1 | grep -vE 'AlreadyExists|already exists|being terminated|^serviceaccount/default created$' || true)
  [ -z "$out" ] || log "$out"
  log "ready for exec: ${ok[*]}"
}

remove() {
  local n names=()
  for n in "$@"; do names+=("ns-$n"); done
  k delete clusterexec "${names[@]}" --ignore-not-found >/dev/null 2>&1 && log "removed ClusterExec ${names[*]}"
}

# ClusterExecs this reconciler made for namespaces that no longer exist (deleted while it was down).
collect_garbage() {
  local have ns n gone=()
  have=$(k get namespaces -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}') || return 1
  ns=$(k get clusterexecs -l "app.kubernetes.io/managed-by=$MANAGED_BY" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}') || return 1
  for n in $ns; do
    grep -qx "${n#ns-}" <<<"$have" || gone+=("${n#ns-}")
  done
  [ "${#gone[@]}" -eq 0 ] || remove "${gone[@]}"
}

# Reads watch events ("TYPE NAME PHASE" lines) and handles them in batches: whatever arrived
# together (the initial list, a burst of namespaces) costs two kubectl calls, not two per namespace.
# Namespaces whose ClusterExec failed are retried every 2 s until they succeed or are deleted.
handle_events() {
  local line buf="" name type phase add del rc
  local -A last retry=()
  while :; do
    line=""
    if [ "${#retry[@]}" -gt 0 ]; then IFS= read -r -t 2 line; else IFS= read -r line; fi
    rc=$?
    if [ "$rc" -gt 128 ]; then
      buf+=$line # timed out (possibly mid-line): keep what was read
    elif [ "$rc" -ne 0 ]; then
      return 0 # the watch ended
    else
      line=$buf$line
      buf=""
      last=()
      IFS=' ' read -r type name phase <<<"$line"
      [ -z "$name" ] || last[$name]="$type $phase"
      sleep 0.05
      while read -r -t 0; do
        IFS= read -r line || break
        IFS=' ' read -r type name phase <<<"$line"
        [ -z "$name" ] || last[$name]="$type $phase"
      done
    fi
    add=()
    del=()
    for name in "${!retry[@]}"; do [ -n "${last[$name]:-}" ] || last[$name]=RETRY; done
    retry=()
    for name in "${!last[@]}"; do
      case "${last[$name]}" in
        DELETED*) del+=("$name") ;;
        *Terminating) ;;
        ADDED* | MODIFIED* | RETRY) add+=("$name") ;;
      esac
    done
    last=()
    [ "${#del[@]}" -eq 0 ] || remove "${del[@]}"
    if [ "${#add[@]}" -gt 0 ]; then
      ensure "${add[@]}"
      for name in "${FAILED[@]}"; do retry[$name]=1; done
    fi
  done
}

[ -z "$PIDFILE" ] || echo $$ >"$PIDFILE"
log "started for $KCFG (pid $$)"
down_since=$(date +%s)
backoff=1
while :; do
  [ -f "$KCFG" ] || { log "kubeconfig $KCFG is gone (cluster removed); exiting"; exit 0; }
  if collect_garbage; then
    down_since=$(date +%s)
    backoff=1
    # The watch lists every namespace first (as ADDED), so a restart re-checks them all.
    "$KUBECTL" --kubeconfig "$KCFG" get namespaces --watch --output-watch-events \
      -o jsonpath='{.type} {.object.metadata.name} {.object.status.phase}{"\n"}' |
      handle_events
    log "namespace watch ended; restarting it"
  elif [ $(( $(date +%s) - down_since )) -gt 600 ]; then
    log "the API server has not answered for 10 minutes; exiting"
    exit 1
  fi
  sleep "$backoff"
  [ "$backoff" -ge 16 ] || backoff=$((backoff * 2))
done
