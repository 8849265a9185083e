#!/bin/sh
# Builds the dashboard page, web/dist/index.html, from web/src with the
# npm packages pinned in web/package-lock.json (docs/dashboard.md).
#
#   scripts/build-web.sh           npm ci in web/, then build web/dist/index.html
#   scripts/build-web.sh --check   build into a temp dir and compare with the
#                                  committed web/dist/index.html, byte for byte
#
# The page is committed so that building hpo needs no Node; --check (a
# ctest, web_bundle) catches sources changed without rebuilding it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
web="$root/web"
check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
for tool in node npm; do
    command -v $tool >/dev/null || {
        echo "build-web.sh: no $tool (apt-get install nodejs npm)" >&2; exit 77; }
done
cd "$web"
# Quiet unless it fails; node_modules/ is ignored by git.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-web.sh: npm ci failed in web/ (is the registry reachable?)" >&2
    exit 77
fi
if [ $check = 0 ]; then
    exec node build.mjs "$web/dist/index.html"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$log"' EXIT
node build.mjs "$tmp/index.html" >/dev/null
if cmp -s "$tmp/index.html" "$web/dist/index.html"; then
    echo "build-web.sh: web/dist/index.html is up to date"
    exit 0
fi
echo "build-web.sh: web/dist/index.html DIFFERS from a build of web/src" >&2
echo "  (committed $(wc -c <"$web/dist/index.html") bytes, built $(wc -c <"$tmp/index.html") bytes)." >&2
echo "  Rebuild it with scripts/build-web.sh and commit web/dist/index.html." >&2
exit 1
