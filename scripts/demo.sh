#!/usr/bin/env bash
# Installs what hpo needs, builds it, and runs a small study on this machine:
# a coordinator and two workers on loopback tune examples/quadratic.yaml,
# `hpo watch` shows its progress, and `hpo best` prints the winner.
# Usage: scripts/demo.sh             (from the repository's top)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"

work=$(mktemp -d /tmp/hpo-demo-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "demo files (database, logs) are in $work"
}
trap cleanup EXIT

echo "== starting a coordinator and two workers (logs in $work)"
build/hpo-coordinator --db "$work/hpo.db" --listen 'tcp://127.0.0.1:*' \
    --endpoint-file "$work/endpoint" 2>"$work/coordinator.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/endpoint" ] && break; sleep 0.1; done
[ -s "$work/endpoint" ] || { cat "$work/coordinator.log"; exit 1; }
export HPO_COORDINATOR=$(cat "$work/endpoint")
for w in 1 2; do
    # Workers run commands from their working directory: the repository,
    # where the study's command finds examples/quadratic.py.
    (cd "$top" && exec build/hpo-worker --name "demo-w$w" --slots 2 \
        --state-dir "$work/worker$w") 2>"$work/worker$w.log" &
    pids+=($!)
done

echo "== hpo study create examples/quadratic.yaml"
build/hpo study create examples/quadratic.yaml
echo "== hpo watch quadratic"
build/hpo watch quadratic
echo "== hpo workers"
build/hpo workers
echo "== hpo best quadratic"
build/hpo best quadratic
