#!/usr/bin/env bash
# Copies the hpo binaries of a build and the shared libraries they need
# (all but the C library's own) into one folder, so the GPU check runs on
# a machine that has none of hpo's dependencies installed.
# Usage: tests/gpu/bundle.sh BUILD_DIR OUT_DIR [SUFFIX]
set -euo pipefail
build=$1 out=$2 suffix=${3:-}
mkdir -p "$out/lib"
for b in hpo-coordinator hpo-worker hpo; do
    cp "$build/$b" "$out/$b$suffix"
    ldd "$build/$b" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
        case "$(basename "$lib")" in
        libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;;
        *) cp -n "$lib" "$out/lib/" ;;
        esac
    done
done
