#!/usr/bin/env bash
# The emulators the release suite runs the foreign binaries with, installed when missing:
#   linux/arm64    qemu-aarch64 (Debian qemu-user) with the arm64 glibc, libstdc++ and libgcc
#                  (libc6-arm64-cross, libstdc++6-arm64-cross, libgcc-s1-arm64-cross) as its -L root
#   windows/amd64  Wine (Debian wine64): wine64 and wineserver
# As the cluster scripts do: installed with apt-get when run as root, else the run stops and says
# what to install. Idempotent: when everything is there it only checks files (no apt call).
# Prints, as the last lines of stdout, what the tests use:
#   QEMU_AARCH64=... QEMU_LD_PREFIX=... WINE64=... WINESERVER=...
# Exit 0 ready; 3 missing and not installable here (not root, or no apt-get); 1 apt-get failed.
set -euo pipefail

QEMU_AARCH64=/usr/bin/qemu-aarch64
QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
WINE64=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
# file that shows the package is installed -> package
declare -A NEEDS=(
  ["$QEMU_AARCH64"]=qemu-user
  ["$QEMU_LD_PREFIX/lib/ld-linux-aarch64.so.1"]=libc6-arm64-cross
  ["$QEMU_LD_PREFIX/lib/libstdc++.so.6"]=libstdc++6-arm64-cross
  ["$QEMU_LD_PREFIX/lib/libgcc_s.so.1"]=libgcc-s1-arm64-cross
  ["$WINE64"]=wine64
  ["$WINESERVER"]=wine64
)

log() { printf '[emulators] %s\n' "$*" >&2; }

missing=()
for f in "${!NEEDS[@]}"; do
  [ -e "$f" ] || missing+=("${NEEDS[$f]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${missing[*]}; install them as root (Debian/Ubuntu: apt-get install --no-install-recommends ${missing[*]})"
    exit 3
  fi
  start=$(date +%s)
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || { log "apt-get install ${missing[*]} failed"; exit 1; }
  fi
  for f in "${!NEEDS[@]}"; do
    [ -e "$f" ] || { log "apt-get installed ${NEEDS[$f]}, but $f is still missing"; exit 1; }
  done
  log "installed in $(( $(date +%s) - start ))s"
fi
printf 'QEMU_AARCH64=%s\nQEMU_LD_PREFIX=%s\nWINE64=%s\nWINESERVER=%s\n' "$QEMU_AARCH64" "$QEMU_LD_PREFIX" "$WINE64" "$WINESERVER"
