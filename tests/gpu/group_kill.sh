#!/usr/bin/env bash
# Real-GPU check for issue #10's promise 7: whatever kills the worker (here
# kill -9 of its whole process group, as systemctl kill, Slurm and Ctrl-\
# do), no process of its trials survives and their GPU memory is freed.
# Each trial holds GPU memory, ignores SIGTERM and has a child in a
# session of its own that holds GPU memory too.
#
# Runs on a GPU machine from the repository's top, with a bundle made by
# tests/gpu/bundle.sh (binaries and their libraries). Variants: the
# bundle's hpo-worker, and hpo-worker-old if present (the build before the
# fix), so one run shows before and after.
# Usage: tests/gpu/group_kill.sh [BUNDLE]     (default .gpu-bundle)
set -u
B=$(cd "${1:-.gpu-bundle}" && pwd)
export LD_LIBRARY_PATH=$B/lib
TRAINER=$PWD/tests/gpu/gpu_trainer.py
nvidia-smi -L
gpu_used () { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1; }
alive_pids () {
    local n=0
    for f in "$1"/pid-*; do
        [ -e "$f" ] || continue
        p=${f##*/pid-}
        if [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; then n=$((n+1)); fi
    done
    echo $n
}
variants=""
[ -x "$B/hpo-worker-old" ] && variants="old"
variants="$variants new"
for v in $variants; do
    sfx=""; [ "$v" = old ] && sfx="-old"
    d=$(mktemp -d)
    mkdir -p "$d/pids"
    base=$(gpu_used)
    "$B/hpo-coordinator$sfx" --db "$d/hpo.db" --listen 'tcp://127.0.0.1:*' \
        --endpoint-file "$d/ep" --heartbeat-ms 200 --lease-ms 2000 \
        >"$d/coord.log" 2>&1 &
    cpid=$!
    for i in $(seq 50); do [ -s "$d/ep" ] && break; sleep 0.1; done
    ep=$(cat "$d/ep")
    HPO_GPU_PIDS=$d/pids setsid "$B/hpo-worker$sfx" --coordinator "$ep" \
        --slots 2 --name gpu0 --state-dir "$d/state" >"$d/worker.log" 2>&1 &
    wpid=$!
    cat >"$d/study.yaml" <<YAML
name: gpukill
command: python3 $TRAINER --ignore-term --mib 4096 --seconds 120 --x {x}
objective: {metric: loss, direction: minimize}
budget: {trials: 2, parallel: 2}
trial: {grace: 2s}
space:
  x: {type: float, low: 0, high: 1}
YAML
    "$B/hpo$sfx" --coordinator "$ep" study create "$d/study.yaml"
    for i in $(seq 120); do [ "$(alive_pids "$d/pids")" -ge 4 ] && break; sleep 0.5; done
    sleep 1
    before=$(alive_pids "$d/pids"); used_before=$(gpu_used)
    echo "[$v] trial processes holding GPU memory: $before; GPU memory used: ${used_before} MiB (idle ${base} MiB)"
    kill -9 -- -"$wpid"
    t0=$(date +%s%N)
    for i in $(seq 40); do [ "$(alive_pids "$d/pids")" -eq 0 ] && break; sleep 0.5; done
    t1=$(date +%s%N)
    sleep 2
    after=$(alive_pids "$d/pids"); used_after=$(gpu_used)
    echo "[$v] after kill -9 of the worker's process group: $after trial processes alive after $(( (t1 - t0) / 1000000 )) ms; GPU memory used: ${used_after} MiB"
    nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader
    [ "$after" -eq 0 ] && echo "[$v] PASS" || echo "[$v] FAIL: trial processes outlived their worker"
    # Leave the next variant a clean GPU.
    for f in "$d"/pids/pid-*; do kill -9 "${f##*/pid-}" 2>/dev/null; done
    kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
    sleep 2
done
