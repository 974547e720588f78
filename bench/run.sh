#!/usr/bin/env bash
# The benchmark suite, in one command (from anywhere in the repository):
#
#   bench/run.sh                      # 10,000 and 100,000 users, 3 runs each, plus the cargo benches
#   bench/run.sh --sizes 10000 --runs 1 --skip-cargo-bench   # a quick look
#
# 1. builds `umapi` in release mode;
# 2. creates (or reuses) a virtualenv in target/bench-venv with Adobe's umapi-client==3.0.1;
# 3. runs bench/suite.py with it: umapi plan vs the Python client on standalone sandboxes,
#    then `cargo bench -p umapi-sync --bench planner`; prints one table with PASS/MISS per target.
#
# Needs: cargo, python3 with the venv module, and PyPI reachable on the first run.
# Writes everything under target/bench/ (results.md, results.json, logs). Exit code 0 when
# every target passes, 3 when one is missed, anything else on error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

client_version="3.0.1"
# The build's target folder (CARGO_TARGET_DIR when set).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
venv="$target_dir/bench-venv"

echo "== cargo build --release --bin umapi" >&2
cargo build --release --quiet --bin umapi

if ! "$venv/bin/python" -c "import umapi_client, sys; sys.exit(umapi_client.__version__ != '$client_version')" 2>/dev/null; then
    echo "== creating $venv with umapi-client==$client_version" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet "umapi-client==$client_version"
fi

exec "$venv/bin/python" "$root/bench/suite.py" --umapi "$target_dir/release/umapi" "$@"
