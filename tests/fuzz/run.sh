#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/, HPO_FUZZ=ON), replays
# every regression input and seed, then fuzzes each target for SECONDS
# (default 300; 0: replay only). Exits 1 at the first crash, leak, timeout or sanitizer
# report, and says where the input is.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (targets: wire server spec
#                                               report; default all)
#
# New corpus entries go to build-fuzz/corpus/<target> (not committed; copy
# the interesting ones to tests/fuzz/corpus/<target>). A crash's input is
# build-fuzz/crashes/<target>-crash-<sha1>: fix the bug, and commit the input
# under tests/fuzz/regressions/<target>/ so every build replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire server spec report)
dir=${HPO_FUZZ_BUILD:-build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)

CC=${CC:-clang} cmake -S . -B "$dir" -DHPO_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$jobs" --target "${targets[@]/#/fuzz_}"

mkdir -p "$dir/crashes"
status=0
for t in "${targets[@]}"; do
    exe=$dir/fuzz_$t
    seeds=tests/fuzz/corpus/$t
    regressions=tests/fuzz/regressions/$t
    dict=()
    case $t in server|wire) dict=(-dict=tests/fuzz/server.dict) ;; esac
    echo "== fuzz_$t: replaying $regressions and $seeds"
    # -timeout: libFuzzer's default is 20 minutes; a hang is a bug.
    if ! "$exe" -runs=0 -timeout=20 -artifact_prefix="$dir/crashes/$t-" \
            "$regressions" "$seeds" \
            >"$dir/fuzz_$t.log" 2>&1
    then
        tail -60 "$dir/fuzz_$t.log"
        echo "fuzz_$t: a regression or seed input fails (log: $dir/fuzz_$t.log)"
        status=1
        continue
    fi
    # libFuzzer reads -max_total_time=0 as "for ever"; here 0 means only
    # the replay above.
    [ "$seconds" -gt 0 ] || continue
    mkdir -p "$dir/corpus/$t"
    echo "== fuzz_$t: fuzzing for ${seconds}s"
    # -timeout: one input that holds the coordinator's loop for seconds
    # is a bug too. The first corpus directory receives what is new.
    if ! "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 "${dict[@]}" \
            -artifact_prefix="$dir/crashes/$t-" \
            "$dir/corpus/$t" "$seeds" >"$dir/fuzz_$t.log" 2>&1; then
        grep -v '^#[0-9]' "$dir/fuzz_$t.log" | tail -60
        echo "fuzz_$t: found a bug; input in $dir/crashes/ (log: $dir/fuzz_$t.log)"
        status=1
        continue
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' \
        "$dir/fuzz_$t.log" | tr '\n' ' '
    echo
done
exit $status
