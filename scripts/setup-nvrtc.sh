#!/usr/bin/env bash
# Set up NVRTC (the CUDA runtime compiler) from the PyPI nvidia-cuda-nvrtc
# wheel, so that the `cuda` feature's kernels can be compiled to PTX on a
# machine without a GPU or a CUDA toolkit (e.g. in CI).
#
# Unpacks the wheel's libraries (libnvrtc.so.13 and its builtins) into
# .nvrtc/lib at the repository root and prints the directory to add to
# LD_LIBRARY_PATH, where cudarc's dynamic loader finds libnvrtc.so.13.
#
# Idempotent: returns at once when .nvrtc/.complete matches this version.
# Wheels are kept in $TORCHLET_WHEEL_CACHE (default ~/.cache/torchlet-wheels)
# and only downloaded when no matching wheel is there.
set -euo pipefail

# cudarc is built with the cuda-13000 feature: NVRTC 13.0.
NVRTC_VERSION=13.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/.nvrtc"
lib="$dest/lib"
marker="$dest/.complete"
stamp="nvrtc $NVRTC_VERSION"

if [[ -f $marker && $(<"$marker") == "$stamp" ]]; then
    echo "NVRTC $NVRTC_VERSION already set up; add to LD_LIBRARY_PATH:"
    echo "$lib"
    exit 0
fi

command -v unzip >/dev/null || { echo "error: unzip is required" >&2; exit 1; }

cache=${TORCHLET_WHEEL_CACHE:-$HOME/.cache/torchlet-wheels}
mkdir -p "$cache"
pattern="nvidia_cuda_nvrtc-$NVRTC_VERSION.*_$(uname -m).whl"

whl=$(compgen -G "$cache/$pattern" | sort -V | tail -n 1 || true)
if [[ -z $whl ]]; then
    echo "downloading nvidia-cuda-nvrtc==$NVRTC_VERSION.* into $cache"
    python3 -m pip download --quiet --no-cache-dir --no-deps --only-binary=:all: \
        --dest "$cache" "nvidia-cuda-nvrtc==$NVRTC_VERSION.*"
    whl=$(compgen -G "$cache/$pattern" | sort -V | tail -n 1 || true)
    [[ -n $whl ]] || { echo "error: no $pattern after download" >&2; exit 1; }
fi
echo "using $(basename "$whl")"

# Start from scratch; the marker is written last, so an interrupted run is
# simply redone next time.
rm -rf "$dest"
mkdir -p "$lib"
unzip -q -j "$whl" -d "$lib" 'nvidia/*/lib/*'
# Unversioned name, for tools that look up plain libnvrtc.so.
ln -s "$(cd "$lib" && compgen -G 'libnvrtc.so.*' | head -n 1)" "$lib/libnvrtc.so"

echo "$stamp" >"$marker"
echo "NVRTC $NVRTC_VERSION ready ($(du -sh "$lib" | cut -f1)); add to LD_LIBRARY_PATH:"
echo "$lib"
