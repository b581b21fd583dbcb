# Environment shared by the pod-bin wrappers. KSTS_DNS_PORT is written by up.sh into dns.env;
# KSTS_POD_NAMESPACE comes from the namespace's ClusterExec (test harness), else "default".
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/dns.env"
: "${KSTS_POD_NAMESPACE:=default}"
: "${KSTS_CLUSTER_DOMAIN:=cluster.local}"
REAL_NSLOOKUP=/usr/bin/nslookup
REAL_DIG=/usr/bin/dig
search="$KSTS_POD_NAMESPACE.svc.$KSTS_CLUSTER_DOMAIN svc.$KSTS_CLUSTER_DOMAIN $KSTS_CLUSTER_DOMAIN"
# bind9's nslookup and dig read the search list from resolv.conf; LOCALDOMAIN overrides it (resolver(3)).
export LOCALDOMAIN="$search"
export RES_OPTIONS="ndots:5"
