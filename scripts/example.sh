#!/usr/bin/env bash
# Installs the prerequisites, builds wasock and runs the example guest examples/hello.c,
# which lists a directory granted with --dir and prints its arguments and environment.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p wasock
out=target/examples
mkdir -p "$out/data"
# Debian's wasi-libc headers and libraries, in a sysroot of their own so that nothing falls
# through to glibc's headers.
guest/c/make-sysroot.sh "$out/sysroot"
clang --target=wasm32-wasi --sysroot="$out/sysroot" -O2 -o "$out/hello.wasm" examples/hello.c
echo "a file for the guest to find" > "$out/data/note.txt"
set -x
target/release/wasock --env=GREETING=hello --map-dir=/data::"$out/data" "$out/hello.wasm" one two
