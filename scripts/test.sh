#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs every unit and integration test.
# The integration tests compile their C and Rust guests from source.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo test --workspace --exclude containerd-shim-wasock --locked "$@"
scripts/test-containerd.sh  # the containerd shim, end to end (skipped where containerd cannot run)
bench/run.sh --quick --debug-wasock  # the benchmark harness still works (bench/; judges no speed)
fuzz/ci.sh 20  # a short real fuzzing pass of every host import and the parsers (fuzz/)
