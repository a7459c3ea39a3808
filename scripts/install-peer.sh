#!/usr/bin/env bash
# Installs the benchmark's peer: wasmtime's own CLI at the version wasock embeds (48.0.8), into
# ~/.cargo/bin, once (later runs find it there). Building it takes about half an hour on a
# 2-CPU machine. bench/run.sh calls this for full runs; it never runs in --quick (CI) mode.
set -euo pipefail
want=48.0.8
if command -v wasmtime >/dev/null && wasmtime --version | grep -q " $want"; then exit 0; fi
if [ -x "$HOME/.cargo/bin/wasmtime" ] && "$HOME/.cargo/bin/wasmtime" --version | grep -q " $want"; then exit 0; fi
echo "bench: installing wasmtime-cli $want, the peer column (once; about 30 minutes)" >&2
cargo install "wasmtime-cli@$want" --locked
