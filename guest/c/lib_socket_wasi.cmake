# wasock's C guest library for WAMR's socket extension.
#
#   include(path/to/guest/c/lib_socket_wasi.cmake)
#   target_link_libraries(app socket_wasi_ext)
#
# Creates the static library target `socket_wasi_ext`; linking it adds guest/c/include (for
# <wasi_socket_ext.h>) to the user's include path. The same target name and include as WAMR's
# core/iwasm/libraries/lib-socket/lib_socket_wasi.cmake, so build files written for that work
# unchanged.

set(WASOCK_GUEST_C_DIR ${CMAKE_CURRENT_LIST_DIR})

if(NOT TARGET socket_wasi_ext)
  add_library(socket_wasi_ext STATIC
    ${WASOCK_GUEST_C_DIR}/src/addr.c
    ${WASOCK_GUEST_C_DIR}/src/inet.c
    ${WASOCK_GUEST_C_DIR}/src/io.c
    ${WASOCK_GUEST_C_DIR}/src/netdb.c
    ${WASOCK_GUEST_C_DIR}/src/socket.c
    ${WASOCK_GUEST_C_DIR}/src/sockopt.c
  )
  target_include_directories(socket_wasi_ext PUBLIC ${WASOCK_GUEST_C_DIR}/include)
  # C11 for _Static_assert; the library builds warning-free with -Wall -Wextra.
  set_target_properties(socket_wasi_ext PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                                                   C_EXTENSIONS ON)
endif()
