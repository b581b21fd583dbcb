#!/usr/bin/env bash
# The REAL MongoDB shell (npm package `mongosh`, pinned with its whole dependency tree in
# scripts/cluster/mongosh/package-lock.json) for the e2e harness: installed once into
# ${XDG_CACHE_HOME:-~/.cache}/kubectl-sts/mongosh-<key of the lock file> and reused, like the Go
# binaries. Prints the path of mongosh's entry script (run it with the project's pinned Node:
# node_modules/node/bin/node). Install scripts are skipped: mongosh's optional native add-ons
# (kerberos, client-side encryption, OS keychain) are not needed to run the probe and would try to
# download prebuilt binaries. Measured here: 26 s, 465 packages, 154 MB.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src="$CLUSTER_SCRIPTS/mongosh"
key="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-12)"
dir="$CACHE_ROOT/mongosh-$key"
entry="$dir/node_modules/mongosh/bin/mongosh.js"
if [ ! -f "$dir/.installed" ]; then
  log "installing mongosh for the harness into $dir (once; ~30 s, ~150 MB)"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  cp "$src/package.json" "$src/package-lock.json" "$dir.tmp/"
  (cd "$dir.tmp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2) ||
    die "npm ci of mongosh failed (scripts/cluster/mongosh/package-lock.json); is the npm registry reachable?"
  [ -f "$dir.tmp/node_modules/mongosh/bin/mongosh.js" ] || die "mongosh installed without bin/mongosh.js"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  touch "$dir/.installed"
fi
echo "$entry"
