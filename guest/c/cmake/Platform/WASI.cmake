# CMake platform file for WASI (loaded because the toolchain sets CMAKE_SYSTEM_NAME to WASI).
# WASI programs are single wasm modules: no shared libraries, no rpath, `.wasm` executables.
set(WASI 1)
set(UNIX 1)
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_STATIC_LIBRARY_PREFIX "lib")
set(CMAKE_STATIC_LIBRARY_SUFFIX ".a")
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
