# CMake toolchain file: Debian's clang + Debian's wasi-libc (package wasi-libc, 2022) to
# wasm32-wasi (WASI preview 1) programs.
#
#   cmake -S app -B build -DCMAKE_TOOLCHAIN_FILE=/path/to/guest/c/wasi-toolchain-debian.cmake
#   cmake ... -DCMAKE_C_COMPILER=clang-19      # another clang (needs libclang-rt-19-dev-wasm32)
#
# Debian installs wasi-libc in /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi, and clang's
# default search path then continues into /usr/include, the host's glibc headers: a header
# wasi-libc lacks (netdb.h, ...) would silently come from glibc. So this file builds a private
# sysroot of two symlinks in the build tree with make-sysroot.sh (the same script the README
# gives for builds by hand) and compiles with --sysroot:
#   <build>/wasi-sysroot/include          -> /usr/include/wasm32-wasi
#   <build>/wasi-sysroot/lib/wasm32-wasi  -> /usr/lib/wasm32-wasi
# (clang's WebAssembly driver searches <sysroot>/include and links from
# <sysroot>/lib/wasm32-wasi.)

set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(triple wasm32-wasi)

# Our Platform/WASI.cmake (CMake has none of its own).
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR}/cmake)

if(NOT CMAKE_C_COMPILER)
  set(CMAKE_C_COMPILER clang)
endif()
if(NOT CMAKE_CXX_COMPILER)
  set(CMAKE_CXX_COMPILER clang++)
endif()
set(CMAKE_C_COMPILER_TARGET ${triple})
set(CMAKE_CXX_COMPILER_TARGET ${triple})
set(CMAKE_ASM_COMPILER_TARGET ${triple})

# GNU ar cannot index wasm objects and wasm-ld refuses archives without an index: use LLVM's
# archiver, preferably the one of the chosen clang's version (clang-19 -> llvm-ar-19).
get_filename_component(_wasi_cc_name "${CMAKE_C_COMPILER}" NAME)
string(REGEX MATCH "-[0-9]+$" _wasi_cc_version "${_wasi_cc_name}")
find_program(CMAKE_AR NAMES llvm-ar${_wasi_cc_version} llvm-ar REQUIRED)
find_program(CMAKE_RANLIB NAMES llvm-ranlib${_wasi_cc_version} llvm-ranlib REQUIRED)

# This file also runs for every try_compile project, each with its own CMAKE_BINARY_DIR;
# creating the links there too is cheap and keeps each project self-contained. The script
# checks that wasi-libc is installed and says what to install if not.
set(_wasi_sysroot ${CMAKE_BINARY_DIR}/wasi-sysroot)
if(NOT EXISTS ${_wasi_sysroot}/include/wasi/api.h OR NOT EXISTS ${_wasi_sysroot}/lib/${triple}/libc.a)
  execute_process(COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/make-sysroot.sh ${_wasi_sysroot}
                  RESULT_VARIABLE _wasi_result ERROR_VARIABLE _wasi_error)
  if(NOT _wasi_result EQUAL 0)
    message(FATAL_ERROR "cannot make the wasi-libc sysroot ${_wasi_sysroot}: ${_wasi_error}")
  endif()
endif()
set(CMAKE_SYSROOT ${_wasi_sysroot})

# Cannot run wasm during configure; check the compiler by building a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")

set(CMAKE_FIND_ROOT_PATH ${_wasi_sysroot})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
