#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of hpo from Debian's
# packages. Non-interactive and idempotent: run it as often as you like.
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config
    libzmq3-dev libczmq-dev            # transport: ROUTER/DEALER, zpoller, zsys
    libprotobuf-c-dev protobuf-c-compiler  # wire schema, compiled at build time
    libsqlite3-dev                     # the coordinator's store
    libfyaml-dev                       # study files: YAML 1.2 and JSON
    libpcre2-dev                       # metrics from stdout: named groups,
                                       # a bounded match per line
    libjansson-dev                     # JSON for --json output and reports
    libgsl-dev                         # samplers: Sobol points (qmc),
                                       # symmetric eigensystems (cmaes)
    libmicrohttpd-dev zlib1g-dev       # the dashboard (--http): HTTP
                                       # server, gzip of its answers
    python3                            # end-to-end tests and example programs
    iproute2 iptables                  # test_netns.py: hosts in network
                                       # namespaces, partitions, unplugging
    slurmctld slurmd slurm-client munge  # test_slurm.py: a one-node Slurm
                                       # runs deploy/slurm/hpo-workers.sbatch
    python3-zmq python3-protobuf protobuf-compiler  # test_peers.py: a raw
                                       # peer; protoc compiles the schema
                                       # for Python at build time
    clang libclang-rt-14-dev           # tests/fuzz: libFuzzer targets
                                       # (-fsanitize=fuzzer), build-fuzz
    python3-pandas                     # test_export.py: hpo export's CSV
                                       # and JSON Lines load in pandas
    python3-optuna                     # tests/conformance: Optuna 3.1's
                                       # pruners decide the same curves;
                                       # also the benchmarks' peer
    systemd                            # test_deploy.py: systemd-analyze
                                       # verify and security on the units
                                       # (no daemon is started)
    shellcheck                         # test_deploy.py: the Slurm scripts
    python3-sklearn                    # examples/sklearn_digits.py, the
                                       # digits data; bench/prune_saving.py
    python3-torch                      # examples/torch_digits.py (CPU
                                       # build; ~140 MB download with its
                                       # dependencies, ~560 MB installed)
    python3-cmaes                      # bench/samplers_optuna.py: Optuna's
                                       # CmaEsSampler needs it
    chromium                           # tests/browser: playwright-core
                                       # drives it headless (no browser
                                       # download from npm)
    curl                               # bench/run.py dashboard: one
                                       # client reads the event stream
)
# test_k8s.py: node and npm install the manifests' schema checker
# (deploy/k8s/test). A node that is already there (nodesource's, say,
# which carries its own npm) is kept: Debian's npm would fight it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    PKGS+=(nodejs npm)
fi

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "${missing[@]}"
