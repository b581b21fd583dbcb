# Environment shared by the pod-bin wrappers. KSTS_DNS_PORT is written by up.sh into dns.env;
# KSTS_POD_NAMESPACE comes from the namespace's ClusterExec (see up.sh and the test harness).
# No subshells or helper processes here or in the wrappers' common path: a lookup from inside a
# real pod costs its resolver tool, not a wrapper's forks (dirname, grep, tr, wc each cost a
# process on this machine's two cores, where every pod of a KWOK cluster runs).
here=${BASH_SOURCE[0]%/*}
. "$here/dns.env"
: "${KSTS_POD_NAMESPACE:=default}"
: "${KSTS_CLUSTER_DOMAIN:=cluster.local}"
# Query timeouts follow a pod's glibc resolver defaults (timeout:5, attempts:2), not a fast-fail
# setting: on a loaded machine a 2 s single try made healthy lookups fail.
REAL_NSLOOKUP=/usr/bin/nslookup
REAL_DIG=/usr/bin/dig
SEARCH_LIST="$KSTS_POD_NAMESPACE.svc.$KSTS_CLUSTER_DOMAIN svc.$KSTS_CLUSTER_DOMAIN $KSTS_CLUSTER_DOMAIN"

# The names a pod's stub resolver tries for NAME, in order (resolv.conf: search list, ndots:5):
# a name ending in "." is absolute; one with fewer than 5 dots is tried with each search domain first.
# set_candidates NAME fills the array CANDS (no subshell); candidates NAME prints them, one a line.
set_candidates() {
  local name=$1 dots=${1//[^.]/} d
  CANDS=()
  case "$name" in *.) CANDS=("$name"); return ;; esac
  if [ "${#dots}" -lt 5 ]; then
    for d in $SEARCH_LIST; do CANDS+=("$name.$d"); done
    CANDS+=("$name")
  else
    CANDS+=("$name")
    for d in $SEARCH_LIST; do CANDS+=("$name.$d"); done
  fi
}
candidates() {
  local name=$1 dots
  case "$name" in *.) echo "$name"; return ;; esac
  dots=$(printf '%s' "$name" | tr -cd . | wc -c)
  if [ "$dots" -lt 5 ]; then
    for d in $SEARCH_LIST; do echo "$name.$d"; done
    echo "$name"
  else
    echo "$name"
    for d in $SEARCH_LIST; do echo "$name.$d"; done
  fi
}
