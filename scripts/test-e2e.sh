#!/usr/bin/env bash
# npm run test:e2e — the e2e suites on both supported lines, one after the other (two cores; in
# CI each cluster is removed when its run ends): `e2e` on the current minor, then `e2e-old` on the
# oldest supported one (scripts/cluster/versions.env). Both run even when the first fails; the
# exit code is non-zero when either did. Each run prints its own "Tests N passed" line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rc=0
for line in current old; do
  project=$([ "$line" = old ] && echo e2e-old || echo e2e)
  start=$(date +%s)
  if ! KSTS_KUBE_LINE=$line bash scripts/cluster/build.sh; then rc=1; continue; fi
  npx vitest run --config test/vitest.config.ts --project "$project" "$@" || rc=1
  echo "[e2e] $project ($line line) finished in $(( $(date +%s) - start ))s"
done
exit "$rc"
