#!/usr/bin/env bash
# Installs what losstopo needs and is missing: libtorch (Debian's libtorch-dev, or LIBTORCH=/path),
# npm packages, and the native addon. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || {
    as_root apt-get update -qq >/dev/null 2>&1 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null
  }
}

# 1. A C++ toolchain and libtorch.
if ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
  apt_install g++ make python3 || { say "need g++, make and python3 to build the addon: sudo apt-get install -y g++ make python3"; exit 1; }
fi
if [ -n "${LIBTORCH:-}" ]; then
  [ -f "$LIBTORCH/include/torch/csrc/api/include/torch/torch.h" ] || { say "LIBTORCH=$LIBTORCH does not hold a libtorch (no include/torch/csrc/api/include/torch/torch.h)"; exit 1; }
elif [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then
  apt_install libtorch-dev || {
    say "libtorch is missing. Install it with: sudo apt-get install -y --no-install-recommends libtorch-dev"
    say "or point LIBTORCH at an unpacked official libtorch (e.g. a CUDA build): LIBTORCH=/path/to/libtorch npm run setup"
    exit 1
  }
fi

# Figures are rendered to PNG without a browser; their text needs a font.
if [ ! -d /usr/share/fonts/truetype/dejavu ]; then
  apt_install fonts-dejavu-core || say "no fonts found: PNG figures will lack text (sudo apt-get install -y fonts-dejavu-core)"
fi

# 2. npm packages (when package.json or the lockfile changed since the last install).
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  say "installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
fi

# 3. The native addon (rebuilt when any of its sources is newer than the binary).
addon=native/build/Release/losstopo_native.node
stale=0
if [ ! -f "$addon" ]; then stale=1
elif [ -n "$(find native -maxdepth 1 -newer "$addon" \( -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -print -quit)" ]; then stale=1
elif [ "${LIBTORCH:-/usr}" != "$(cat native/build/.libtorch 2>/dev/null || echo /usr)" ]; then stale=1
fi
if [ "$stale" = 1 ]; then
  say "building the native addon against libtorch at ${LIBTORCH:-/usr} (a few minutes)"
  npx --no-install node-gyp rebuild --directory native --nodedir=/usr -j 2 >&2
  echo "${LIBTORCH:-/usr}" > native/build/.libtorch
fi
