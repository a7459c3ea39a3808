#!/usr/bin/env bash
# wasock's benchmark: the same C programs natively and on wasock, over loopback, side by side.
#   bench/run.sh                  full run (builds a release wasock if needed), ~5 minutes
#   bench/run.sh --quick          seconds: checks that the harness works, judges no speed
#   bench/run.sh --quick --debug-wasock   the same with target/debug/wasock (what CI runs)
# Results: a markdown table on stdout and in target/bench/results.md. See bench/run.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."
# The 1,000-connection benchmark needs more than the usual 1,024 fds in the load generator
# (which raises its own soft limit too) and in wasock (which raises its soft limit itself).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
command -v python3 >/dev/null || { echo "bench: python3 is needed (apt-get install python3)" >&2; exit 1; }
exec python3 bench/run.py "$@"
