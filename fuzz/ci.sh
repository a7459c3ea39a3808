#!/bin/sh
# A short fuzzing pass for CI: each target for SECONDS (default 30) from the kept corpus.
# New inputs go to a scratch copy, so CI never changes fuzz/corpus/. A crash fails the run
# and leaves its input in fuzz/artifacts/. Installs cargo-fuzz from crates.io if missing.
set -eu
seconds=${1:-30}
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in imports policy flags; do
    mkdir -p "$scratch/$target"
    cp corpus/$target/* "$scratch/$target/"
    echo "fuzz/ci.sh: $target for ${seconds}s"
    RUSTC_BOOTSTRAP=1 cargo fuzz build -O "$target"
    if [ "$(id -u)" = 0 ]; then isolate="unshare -n"; else isolate="unshare -rn"; fi
    $isolate true 2>/dev/null || isolate=""
    dict=""
    [ -f "$target.dict" ] && dict="-dict=$target.dict"
    $isolate sh -c "ip link set lo up 2>/dev/null || true; RUSTC_BOOTSTRAP=1 cargo fuzz run -O $target $scratch/$target -- \
        -max_total_time=$seconds -timeout=10 -rss_limit_mb=2048 -max_len=4096 $dict" >"$scratch/$target.log" 2>&1 || {
        tail -60 "$scratch/$target.log"
        echo "fuzz/ci.sh: $target found a crash (input in fuzz/artifacts/$target/)" >&2
        exit 1
    }
    grep -E '^Done|stat::number_of_executed_units' "$scratch/$target.log" || true
done
