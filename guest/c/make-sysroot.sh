#!/bin/sh
# Makes DIR a sysroot that holds only Debian's wasi-libc (package wasi-libc), for
# `clang --target=wasm32-wasi --sysroot=DIR`:
#
#   DIR/include          -> /usr/include/wasm32-wasi
#   DIR/lib/wasm32-wasi  -> /usr/lib/wasm32-wasi
#
# Without --sysroot, Debian's clang also searches /usr/include, so a header wasi-libc lacks
# (netdb.h, ...) would silently come from glibc. guest/c/wasi-toolchain-debian.cmake runs this
# script for CMake builds.
#
# Running it again is harmless: the links are replaced, never followed (ln -n), so nothing is
# ever written into /usr/include/wasm32-wasi. A DIR/include or DIR/lib/wasm32-wasi that is not
# a symlink is left alone and reported.
set -eu

include=/usr/include/wasm32-wasi
lib=/usr/lib/wasm32-wasi

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR   (makes DIR/include and DIR/lib/wasm32-wasi, links to wasi-libc)" >&2
    exit 2
fi
dir=$1

if [ ! -f "$include/wasi/api.h" ] || [ ! -f "$lib/libc.a" ]; then
    echo "$0: wasi-libc is not installed ($include/wasi/api.h or $lib/libc.a is missing);" \
        "install it with: apt-get install wasi-libc" >&2
    exit 1
fi

# link TARGET NAME: NAME becomes a symlink to TARGET, unless NAME exists and is no symlink.
link() {
    if [ -e "$2" ] && [ ! -L "$2" ]; then
        echo "$0: $2 exists and is not a symlink; remove it or choose another directory" >&2
        exit 1
    fi
    ln -sfn "$1" "$2"
}

mkdir -p "$dir/lib"
link "$include" "$dir/include"
link "$lib" "$dir/lib/wasm32-wasi"
