#!/usr/bin/env bash
# Installs what building and testing wasock needs on Debian 12: clang + wasi-libc for C
# guests, the wasm32-wasip1 Rust targets for Rust guests and wasm32-wasip2 for the component
# guests (tests/programs/p2), wabt and cmake for the tests, and netbase for /etc/services
# (wasmedge_wasi_socket's name lookups ask for the service "http"); for the containerd shim
# (crates/shim), protoc and libseccomp to build it and containerd (with ctr) to test it.
set -euo pipefail
packages=(clang lld llvm wasi-libc libclang-rt-14-dev-wasm32 wabt cmake gcc python3 netbase
  protobuf-compiler libseccomp-dev containerd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
rustup target add wasm32-wasip1 wasm32-wasip1-threads wasm32-wasip2 >/dev/null
