// Resource limits seen from a guest (tests/all/faults.rs), through raw imports.
//
//   fault_limits fds           open sockets until the fd cap (EMFILE), close one, reopen
//   fault_limits cycle COUNT   COUNT socket open/close cycles between checkpoints; after each
//                              "checkpoint N" line it waits for a line on stdin, so that the
//                              test can count the host process's fds meanwhile
//   fault_limits memory        malloc until it fails, then try memory.grow once more
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

IMPORT(sock_open) int32_t raw_sock_open(uint32_t poolfd, uint32_t af, uint32_t socktype, uint32_t fd_out);
IMPORT(sock_bind) int32_t raw_sock_bind(uint32_t fd, uint32_t addr);
IMPORT(sock_listen) int32_t raw_sock_listen(uint32_t fd, uint32_t backlog);
IMPORT(fd_close) int32_t raw_fd_close(uint32_t fd);

#define ptr(p) ((uint32_t)(uintptr_t)(p))
#define MAX_OPEN 100000

static void fail(const char *what, int32_t err) {
    printf("FAILED %s errno=%d\n", what, err);
    exit(100);
}

static int32_t open_socket(uint32_t socktype, uint32_t *fd) {
    return raw_sock_open(-1, 0 /* INET4 */, socktype, ptr(fd));
}

static uint32_t fds[MAX_OPEN];

static void wait_for_go(int checkpoint) {
    char line[16];
    printf("checkpoint %d\n", checkpoint);
    if (!fgets(line, sizeof(line), stdin))
        fail("stdin closed before the go-ahead", 0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    int32_t err = 0;

    if (strcmp(mode, "fds") == 0) {
        int opened = 0;
        while (opened < MAX_OPEN && (err = open_socket(1, &fds[opened])) == 0)
            opened++;
        printf("opened %d errno=%d\n", opened, err);
        if (opened == 0)
            return 100;
        if ((err = raw_fd_close(fds[opened - 1])))
            fail("fd_close", err);
        err = open_socket(1, &fds[opened - 1]);
        printf("reopen errno=%d\n", err);
        uint32_t extra;
        err = open_socket(0, &extra);
        printf("one more errno=%d\n", err);
        for (int i = 0; i < opened; i++)
            if ((err = raw_fd_close(fds[i])))
                fail("fd_close", err);
        err = open_socket(1, &extra);
        printf("after closing all errno=%d fd=%u\n", err, extra);
        return 0;
    }
    if (strcmp(mode, "cycle") == 0) {
        int count = argc > 2 ? atoi(argv[2]) : 1000;
        // __wasi_addr_t for 127.0.0.1:0.
        static uint8_t addr[24] = { 0, 0, 0, 0, 127, 0, 0, 1 };
        for (int checkpoint = 0; checkpoint < 3; checkpoint++) {
            wait_for_go(checkpoint);
            if (checkpoint == 2)
                break;
            for (int i = 0; i < count; i++) {
                uint32_t tcp, udp;
                if ((err = open_socket(1, &tcp)) || (err = open_socket(0, &udp)))
                    fail("sock_open", err);
                // Some of them bound and listening, some bound UDP, to close every kind.
                if (i % 4 == 0 && ((err = raw_sock_bind(tcp, ptr(addr))) || (err = raw_sock_listen(tcp, 8))))
                    fail("bind/listen", err);
                if (i % 4 == 1 && (err = raw_sock_bind(udp, ptr(addr))))
                    fail("bind udp", err);
                if ((err = raw_fd_close(tcp)) || (err = raw_fd_close(udp)))
                    fail("fd_close", err);
            }
        }
        printf("cycled %d\n", 2 * count);
        return 0;
    }
    if (strcmp(mode, "memory") == 0) {
        // Bounded: 65536 blocks of 64 KiB is all of wasm32's 4 GiB. The blocks are kept and
        // read back so that the compiler cannot drop the allocations.
        static char *blocks[65536];
        size_t kib = 0, count = 0;
        unsigned sum = 0;
        while (count < 65536 && (blocks[count] = malloc(65536)) != NULL) {
            blocks[count][0] = blocks[count][65535] = 1; // really there
            count++;
            kib += 64;
        }
        for (size_t i = 0; i < count; i++)
            sum += (unsigned)blocks[i][0] + (unsigned)blocks[i][65535];
        if (sum != 2 * count)
            fail("blocks lost their contents", 0);
        size_t pages = __builtin_wasm_memory_size(0);
        int grown = (int)__builtin_wasm_memory_grow(0, 16);
        printf("malloc_kib=%zu pages=%zu grow=%d\n", kib, pages, grown);
        return 0;
    }
    fail("usage: fault_limits fds | cycle COUNT | memory", 0);
}
