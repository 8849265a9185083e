#!/usr/bin/env bash
# Installs what hpo needs, builds it twice (plain, and with AddressSanitizer
# and UndefinedBehaviorSanitizer) and runs the whole test suite on both.
# Usage: scripts/test.sh            (from the repository's top)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    # Tests start their own processes on kernel-chosen ports; running two
    # at once on a 2-core machine only makes their timings noisier.
    (cd "$dir" && ctest --output-on-failure --timeout 600)
}

# Packagers build with -O3 and with clang, whose warnings differ from
# gcc -O2's; -Werror makes either a broken build, so build both once
# (build only: the suites below already run twice).
echo "== build only (gcc Release, -O3)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$jobs"
echo "== build only (clang)"
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-clang -j "$jobs"

echo "== build and test (RelWithDebInfo)"
run_suite build
echo "== build and test (AddressSanitizer + UndefinedBehaviorSanitizer)"
# detect_leaks: a daemon that exits cleanly must free what it allocated.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run_suite build-asan -DHPO_SANITIZE=ON
echo "== fuzz each target briefly (clang, libFuzzer; tests/fuzz/run.sh)"
# Replays every regression input and seed first; HPO_FUZZ_SECONDS=0 only
# replays.
tests/fuzz/run.sh "${HPO_FUZZ_SECONDS:-45}"
echo "== all tests passed, plain, sanitized and fuzzed"
