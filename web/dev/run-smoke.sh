#!/bin/sh
# The ctest web_smoke: dev/smoke.mjs against dev/mock.mjs (every view of
# the small fixtures and the controls, no console error; live updates; a
# late study answer must not lose events). Skips (77) without node, npm
# or chromium, or when npm ci cannot reach a registry.
set -u
web=$(cd "$(dirname "$0")/.." && pwd)
for tool in node npm; do
    command -v $tool >/dev/null || { echo "web_smoke: SKIPPED, no $tool"; exit 77; }
done
[ -x "${HPO_CHROMIUM:-/usr/bin/chromium}" ] || {
    echo "web_smoke: SKIPPED, no chromium (apt-get install chromium)"; exit 77; }
cd "$web"
if [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || {
        echo "web_smoke: SKIPPED, npm ci failed (registry unreachable?)"; exit 77; }
fi
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# Starts the mock with "$@" on a port the kernel picks; sets $base.
mock() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    node dev/mock.mjs --port 0 "$@" >"$tmp/mock.log" 2>&1 &
    pid=$!
    base=
    for _ in $(seq 100); do
        base=$(sed -n 's/^mock: \(http:[^ ]*\)\/$/\1/p' "$tmp/mock.log")
        [ -n "$base" ] && return 0
        sleep 0.1
    done
    cat "$tmp/mock.log"; echo "web_smoke: the mock did not start"; exit 1
}
mock
timeout 300 node dev/smoke.mjs --base "$base" \
    --studies empty,one,conditional,pruned,reruns,live || exit 1
timeout 120 node dev/smoke.mjs --base "$base" --path /report.html \
    --studies reruns --no-controls 1 || exit 1
mock --slow-detail 3000
timeout 120 node dev/smoke.mjs --base "$base" --studies live \
    --views overview --no-controls 1 --late 3000 || exit 1
