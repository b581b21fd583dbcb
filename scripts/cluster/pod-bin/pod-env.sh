# Environment shared by the pod-bin wrappers. KSTS_DNS_PORT is written by up.sh into dns.env;
# KSTS_POD_NAMESPACE comes from the namespace's ClusterExec (see up.sh and the test harness).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
