#!/bin/sh
# Runs one fuzz target for SECONDS (default 600) on one core, in a private network namespace
# so that the connections the imports target makes reach nothing but its own loopback
# sockets. Needs cargo-fuzz (`cargo install cargo-fuzz`); on stable Rust, RUSTC_BOOTSTRAP=1
# lets it use the nightly flags it needs.
#
#   fuzz/run.sh imports 600
#   fuzz/run.sh policy 60 -- -runs=100000    (extra libFuzzer flags after --)
set -eu
target=${1:?usage: fuzz/run.sh imports|policy|flags [SECONDS] [-- libFuzzer flags]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
[ "${1:-}" = "--" ] && shift
cd "$(dirname "$0")"
dict=""
[ -f "$target.dict" ] && dict="-dict=$target.dict"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O "$target"
run="cargo fuzz run -O $target corpus/$target -- -max_total_time=$seconds -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 $dict $*"
if [ "$(id -u)" = 0 ]; then isolate="unshare -n"; else isolate="unshare -rn"; fi
if $isolate true 2>/dev/null; then
    exec $isolate sh -c "ip link set lo up 2>/dev/null || true; $run"
else
    echo "run.sh: cannot make a network namespace; fuzzing on the host's loopback" >&2
    exec sh -c "$run"
fi
