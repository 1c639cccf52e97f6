#!/usr/bin/env bash
# Set up the libtorch that the optional `tch` feature builds and links against.
#
# The C++ headers and shared libraries are taken from the PyPI torch wheel
# (Python is only used to run pip; torch is never imported) and laid out as a
# minimal libtorch tree at the repository root:
#
#   .libtorch/include   torch/include from the wheel
#   .libtorch/lib       libtorch_cpu, libtorch, libc10, libgomp, plus the two
#                       CUDA runtime libraries libtorch_cpu.so is linked against
#                       (libcudart.so.13, libcupti.so.13). They are only loaded,
#                       never used: no GPU is needed.
#
# .cargo/config.toml points LIBTORCH at .libtorch and build.rs adds an rpath,
# so `cargo test --features tch` needs no further environment afterwards.
#
# Idempotent: returns at once when .libtorch/.complete matches this version.
# Wheels are kept in $TORCHLET_WHEEL_CACHE (default ~/.cache/torchlet-wheels)
# and only downloaded when no matching wheel is there.
set -euo pipefail

# Must match the PyTorch version the `tch` crate in Cargo.lock expects
# (torch-sys checks it against .libtorch/build-version).
TORCH_VERSION=2.13.0
# torch 2.13.0 is built against CUDA 13 (its METADATA requires
# cuda-toolkit==13.0.3). Only the sonames matter, so any 13.x release will do.
CUDA_MAJOR=13

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/.libtorch"
marker="$dest/.complete"
stamp="torch $TORCH_VERSION, cuda $CUDA_MAJOR"

if [[ -f $marker && $(<"$marker") == "$stamp" ]]; then
    echo "libtorch $TORCH_VERSION already set up in $dest"
    exit 0
fi

command -v unzip >/dev/null || { echo "error: unzip is required" >&2; exit 1; }

start=$SECONDS
cache=${TORCHLET_WHEEL_CACHE:-$HOME/.cache/torchlet-wheels}
mkdir -p "$cache"
arch=$(uname -m)

# fetch SPEC GLOB: print the path of the newest cached wheel matching GLOB,
# downloading SPEC into the cache first when there is none.
fetch() {
    local spec=$1 pattern=$2 found
    found=$(compgen -G "$cache/$pattern" | sort -V | tail -n 1 || true)
    if [[ -z $found ]]; then
        echo "downloading $spec into $cache" >&2
        python3 -m pip download --quiet --no-cache-dir --no-deps --only-binary=:all: \
            --dest "$cache" "$spec" >&2
        found=$(compgen -G "$cache/$pattern" | sort -V | tail -n 1 || true)
        [[ -n $found ]] || { echo "error: no $pattern after downloading $spec" >&2; exit 1; }
    fi
    echo "using $(basename "$found")" >&2
    echo "$found"
}

torch_whl=$(fetch "torch==$TORCH_VERSION" "torch-$TORCH_VERSION-*_$arch.whl")
cudart_whl=$(fetch "nvidia-cuda-runtime==$CUDA_MAJOR.*" "nvidia_cuda_runtime-$CUDA_MAJOR.*_$arch.whl")
cupti_whl=$(fetch "nvidia-cuda-cupti==$CUDA_MAJOR.*" "nvidia_cuda_cupti-$CUDA_MAJOR.*_$arch.whl")

# Start from scratch; the marker is written last, so an interrupted run is
# simply redone next time.
rm -rf "$dest"
mkdir -p "$dest"

echo "unpacking headers and libraries into $dest"
unzip -q "$torch_whl" -d "$dest" \
    'torch/include/*' \
    torch/lib/libtorch_cpu.so torch/lib/libtorch.so torch/lib/libc10.so \
    'torch/lib/libgomp*.so*'
mv "$dest/torch/include" "$dest/torch/lib" "$dest/"
rmdir "$dest/torch"
unzip -q -j "$cudart_whl" -d "$dest/lib" "nvidia/*/lib/libcudart.so.$CUDA_MAJOR"
unzip -q -j "$cupti_whl" -d "$dest/lib" "nvidia/*/lib/libcupti.so.$CUDA_MAJOR"

# torch-sys links with -lgomp; point that at the bundled copy, which is the one
# loaded at run time, instead of whatever the system compiler provides.
[[ -e $dest/lib/libgomp.so ]] || ln -s libgomp.so.1 "$dest/lib/libgomp.so"

# torch-sys reads this to check the libtorch version against the one it expects.
echo "$TORCH_VERSION" >"$dest/build-version"

# Every dependency must resolve from .libtorch/lib (the wheel's libraries carry
# an $ORIGIN rpath) or from the system.
# libtorch.so also lists libtorch_cuda.so, deliberately left out: nothing links
# against it (tch uses libtorch_cpu and the linker drops libtorch.so as unneeded).
if missing=$(ldd "$dest/lib/libtorch_cpu.so" | grep 'not found'); then
    echo "error: unresolved dependencies of libtorch_cpu.so:" >&2
    echo "$missing" >&2
    exit 1
fi

echo "$stamp" >"$marker"
echo "libtorch $TORCH_VERSION ready in $dest ($(du -sh "$dest" | cut -f1), $((SECONDS - start)) s)"
