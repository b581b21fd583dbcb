#!/usr/bin/env bash
# npm run demo — brings up the local control plane, builds the plugin, applies the seed documents'
# workloads (test/fixtures/manifests) in namespace ksts-demo, and walks through every command the
# way a user would type it: `kubectl sts ...`, found by kubectl's plugin discovery on PATH.
# Re-runnable: it resets its namespace and its PersistentVolumes first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NS=ksts-demo
M=test/fixtures/manifests

bold() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
say() { printf '\n'; bold "# $*"; }
# run CMD...: shows the command as typed, runs it, shows a non-zero exit code (checks exit 1 on findings).
run() {
  printf '\n'; bold "\$ $*"
  set +e
  "$@"
  local rc=$?
  set -e
  [ "$rc" -eq 0 ] || printf '(exit code %s)\n' "$rc"
}
wait_ready() { kubectl -n "$NS" rollout status "sts/$1" --timeout=120s >/dev/null; }
# recorded_mongo POD: the pod's mongosh (KWOK runs it locally) answers with a recorded healthy rs0.
recorded_mongo() {
  kubectl apply -f - >/dev/null <<EXEC
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Exec
metadata: {name: $1, namespace: $NS}
spec:
  execs:
  - local:
      workDir: /tmp
      envs:
      - {name: KSTS_POD_NAMESPACE, value: $NS}
      - {name: KSTS_MONGO_FIXTURE, value: $root/test/fixtures/mongo/e2e/healthy.json}
EXEC
}

say "control plane (built once from Go modules, then cached) and the plugin"
KUBECONFIG="$(bash scripts/cluster/up.sh | tail -n 1)"
export KUBECONFIG
npm run --silent build
export PATH="$root/dist:$PATH"

say "reset the demo namespace and its volumes"
kubectl delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kubectl delete pv linuxea-1 linuxea-2 linuxea-3 linuxea-4 linuxea-5 example-pv example-pv-1 example-pv-2 --ignore-not-found --wait=false >/dev/null
for pv in $(kubectl get pv -o name | grep -E 'linuxea-|example-pv' || true); do
  kubectl patch "$pv" --type=merge -p '{"metadata":{"finalizers":[]}}' >/dev/null 2>&1 || true
done
# Nothing more to set up for `kubectl exec` in it: the cluster's namespace reconciler
# (scripts/cluster/ns-exec.sh) gives every namespace, whenever created, its KWOK ClusterExec.
kubectl create namespace "$NS" >/dev/null

say "seed workloads: web (headless Service nginx, 5 static PVs linuxea-1..5), mongo rs0, local-storage"
kubectl apply -f $M/web-pvs.yaml >/dev/null
kubectl -n "$NS" apply -f $M/web.yaml
kubectl -n "$NS" apply -f $M/mongo.yaml
kubectl -n "$NS" apply -f $M/local-storage.yaml
wait_ready web; wait_ready mongo; wait_ready local-test
# The pods' mongosh is a recorded healthy rs0 (no mongod runs on this machine; see README).
for p in mongo-0 mongo-1 mongo-2; do recorded_mongo "$p"; done
run kubectl -n "$NS" get sts,pods,pvc

say "the plugin, found by kubectl"
run kubectl sts version

say "rollout: a partition canary, as seed 002 does by hand"
run kubectl sts -n "$NS" rollout status web
run kubectl sts -n "$NS" rollout hold web --image nginx=registry.k8s.io/nginx-slim:0.9
run kubectl sts -n "$NS" rollout diff web
run kubectl sts -n "$NS" rollout web --step
run kubectl sts -n "$NS" rollout status web
run kubectl sts -n "$NS" rollout web --auto --interval 1s
run kubectl sts -n "$NS" rollout history web
run kubectl sts -n "$NS" rollout undo web --yes
wait_ready web

say "dns-check: the headless Service and every pod's stable name, from inside the pods"
run kubectl sts -n "$NS" dns-check web

say "scale web 3 -> 5 -> 2, as seed 002 does: claims www-web-2..4 stay behind"
kubectl -n "$NS" scale sts web --replicas=5 >/dev/null; wait_ready web
kubectl -n "$NS" scale sts web --replicas=2 >/dev/null; wait_ready web
run kubectl sts -n "$NS" pvc-orphans
run kubectl sts -n "$NS" pvc-orphans --delete --dry-run=server --yes

say "finalize-localpv: seed 004's stuck local PV"
kubectl delete pv example-pv --wait=false >/dev/null
sleep 1
run kubectl sts finalize-localpv

say "stop the pod and delete its claim: the real controllers then release and remove the PV by themselves"
kubectl -n "$NS" scale sts local-test --replicas=0 >/dev/null
kubectl -n "$NS" wait --for=delete pod -l app=local-test --timeout=60s >/dev/null 2>&1 || true
# (which claim example-pv is bound to depends on where the scheduler put each pod)
claim=$(kubectl get pv example-pv -o jsonpath='{.spec.claimRef.name}')
kubectl -n "$NS" delete pvc "$claim" --wait=false >/dev/null
for _ in $(seq 1 40); do kubectl get pv example-pv >/dev/null 2>&1 || break; sleep 0.25; done
run kubectl sts finalize-localpv

say "mongo-status: replica set rs0 member by member"
run kubectl sts -n "$NS" mongo-status mongo
kubectl -n "$NS" scale sts mongo --replicas=4 >/dev/null; wait_ready mongo
recorded_mongo mongo-3
say "after scaling mongo to 4 without rs.add()"
run kubectl sts -n "$NS" mongo-status mongo

say "a template change whose pods cannot be scheduled (a nodeSelector no node has): the rollout stops at web-1"
kubectl -n "$NS" patch sts web --type=merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"disktype":"ssd"}}}}}' >/dev/null
for _ in $(seq 1 120); do
  [ "$(kubectl -n "$NS" get pod web-1 -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}' 2>/dev/null)" = Unschedulable ] && break
  sleep 0.5
done

say "doctor: every StatefulSet, with what this demo left behind and the command that fixes each"
run kubectl sts doctor -A

say "done. The cluster keeps running: KUBECONFIG=$KUBECONFIG kubectl get pods -n $NS; npm run cluster:down stops it."
