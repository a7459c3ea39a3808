// Calls raw WASI imports with pointers past the end of linear memory, pointers that straddle
// the end, and huge lengths. Usage: p1_wild_pointers list | CASE DIR. "list" prints every case
// name; CASE makes exactly one bad call and prints "CASE errno=N". A correct host either
// returns an errno or traps with an out-of-bounds message; it must never crash.
// DIR is the preopen; the host has put data.txt (4096 bytes) and the symlink link -> data.txt
// in it. The imports are declared here so that libc cannot check anything first.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

IMPORT(args_get) int32_t raw_args_get(uint32_t argv, uint32_t buf);
IMPORT(args_sizes_get) int32_t raw_args_sizes_get(uint32_t argc, uint32_t buf_size);
IMPORT(environ_get) int32_t raw_environ_get(uint32_t environ, uint32_t buf);
IMPORT(environ_sizes_get) int32_t raw_environ_sizes_get(uint32_t count, uint32_t buf_size);
IMPORT(clock_time_get) int32_t raw_clock_time_get(uint32_t id, uint64_t precision, uint32_t out);
IMPORT(clock_res_get) int32_t raw_clock_res_get(uint32_t id, uint32_t out);
IMPORT(fd_read) int32_t raw_fd_read(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t nread);
IMPORT(fd_write) int32_t raw_fd_write(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t nwritten);
IMPORT(fd_pread) int32_t raw_fd_pread(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint64_t offset, uint32_t nread);
IMPORT(fd_pwrite)
int32_t raw_fd_pwrite(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint64_t offset, uint32_t nwritten);
IMPORT(fd_readdir)
int32_t raw_fd_readdir(uint32_t fd, uint32_t buf, uint32_t buf_len, uint64_t cookie, uint32_t bufused);
IMPORT(fd_prestat_get) int32_t raw_fd_prestat_get(uint32_t fd, uint32_t out);
IMPORT(fd_prestat_dir_name) int32_t raw_fd_prestat_dir_name(uint32_t fd, uint32_t path, uint32_t path_len);
IMPORT(fd_filestat_get) int32_t raw_fd_filestat_get(uint32_t fd, uint32_t out);
IMPORT(fd_fdstat_get) int32_t raw_fd_fdstat_get(uint32_t fd, uint32_t out);
IMPORT(fd_fdstat_set_flags) int32_t raw_fd_fdstat_set_flags(uint32_t fd, uint32_t flags);
IMPORT(fd_seek) int32_t raw_fd_seek(uint32_t fd, int64_t offset, uint32_t whence, uint32_t newoffset);
IMPORT(fd_tell) int32_t raw_fd_tell(uint32_t fd, uint32_t out);
IMPORT(path_open)
int32_t raw_path_open(uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t path_len, uint32_t oflags,
                      uint64_t rights_base, uint64_t rights_inheriting, uint32_t fdflags, uint32_t opened_fd);
IMPORT(path_filestat_get)
int32_t raw_path_filestat_get(uint32_t fd, uint32_t flags, uint32_t path, uint32_t path_len, uint32_t out);
IMPORT(path_readlink)
int32_t raw_path_readlink(uint32_t fd, uint32_t path, uint32_t path_len, uint32_t buf, uint32_t buf_len,
                          uint32_t bufused);
IMPORT(path_create_directory) int32_t raw_path_create_directory(uint32_t fd, uint32_t path, uint32_t path_len);
IMPORT(path_unlink_file) int32_t raw_path_unlink_file(uint32_t fd, uint32_t path, uint32_t path_len);
IMPORT(path_rename)
int32_t raw_path_rename(uint32_t fd, uint32_t old_path, uint32_t old_len, uint32_t new_fd, uint32_t new_path,
                        uint32_t new_len);
IMPORT(path_symlink)
int32_t raw_path_symlink(uint32_t old_path, uint32_t old_len, uint32_t fd, uint32_t new_path, uint32_t new_len);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(uint32_t subs, uint32_t events, uint32_t nsubs, uint32_t nevents);
IMPORT(random_get) int32_t raw_random_get(uint32_t buf, uint32_t buf_len);
IMPORT(sock_recv)
int32_t raw_sock_recv(uint32_t fd, uint32_t ri_data, uint32_t ri_data_len, uint32_t ri_flags, uint32_t ro_datalen,
                      uint32_t ro_flags);
IMPORT(sock_send)
int32_t raw_sock_send(uint32_t fd, uint32_t si_data, uint32_t si_data_len, uint32_t si_flags, uint32_t so_datalen);
// WAMR's socket extension, to get a real socket for sock_recv/sock_send.
IMPORT(sock_open) int32_t raw_sock_open(uint32_t poolfd, uint32_t af, uint32_t socktype, uint32_t fd_out);

#define FAR 0xfffffff0u
#define HUGE 0xffffffffu
#define RIGHTS_ALL 0x1fffffffull
#define FDFLAGS_NONBLOCK 4u

// Scratch memory that is in bounds.
static uint8_t ok_buf[8192] __attribute__((aligned(8)));
static uint32_t ok_iov[2];
static uint32_t ok_u32;
static uint64_t ok_u64;
static uint8_t ok_sub[48] __attribute__((aligned(8)));
static uint8_t ok_events[64] __attribute__((aligned(8)));

static uint32_t ptr(const void *p) {
    return (uint32_t)(uintptr_t)p;
}

// The first byte past linear memory.
static uint32_t mem_end(void) {
    return (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
}

static uint32_t iov(uint32_t buf, uint32_t len) {
    ok_iov[0] = buf;
    ok_iov[1] = len;
    return ptr(ok_iov);
}

static uint32_t str(const char *s) {
    return ptr(s);
}

static uint32_t preopen_fd(void) {
    for (uint32_t fd = 3; fd < 64; fd++) {
        uint8_t prestat[8];
        if (raw_fd_prestat_get(fd, ptr(prestat)) == 0) {
            return fd;
        }
    }
    return 3;
}

static uint32_t open_file(const char *name, uint32_t oflags) {
    uint32_t fd = 0;
    int32_t err = raw_path_open(preopen_fd(), 0, str(name), (uint32_t)strlen(name), oflags, RIGHTS_ALL, RIGHTS_ALL,
                                0, ptr(&fd));
    if (err != 0) {
        printf("setup: path_open %s failed with errno %d\n", name, err);
    }
    return fd;
}

static uint32_t udp_socket(void) {
    uint32_t fd = 0;
    int32_t err = raw_sock_open(HUGE, 0, 0, ptr(&fd));
    if (err != 0) {
        printf("setup: sock_open failed with errno %d\n", err);
        return 1;
    }
    // Non-blocking, so that a host which checks memory only after receiving cannot hang here.
    raw_fd_fdstat_set_flags(fd, FDFLAGS_NONBLOCK);
    return fd;
}

static uint32_t clock_sub(void) {
    memset(ok_sub, 0, sizeof(ok_sub));
    ok_sub[8] = 0; // eventtype clock; id realtime, timeout 0: already due
    return ptr(ok_sub);
}

// Each case makes one call and yields its errno.
#define CASES(X)                                                                                              \
    X(args_sizes_get_far, raw_args_sizes_get(FAR, ptr(&ok_u32)))                                              \
    X(args_sizes_get_end, raw_args_sizes_get(ptr(&ok_u32), mem_end() - 2))                                    \
    X(args_get_argv_far, raw_args_get(FAR, ptr(ok_buf)))                                                      \
    X(args_get_buf_end, raw_args_get(ptr(ok_buf), mem_end() - 2))                                             \
    X(environ_sizes_get_far, raw_environ_sizes_get(FAR, ptr(&ok_u32)))                                        \
    X(environ_get_environ_far, raw_environ_get(FAR, ptr(ok_buf)))                                             \
    X(environ_get_buf_end, raw_environ_get(ptr(ok_buf), mem_end() - 2))                                       \
    X(clock_time_get_far, raw_clock_time_get(0, 0, FAR))                                                      \
    X(clock_time_get_end, raw_clock_time_get(1, 0, mem_end() - 4))                                            \
    X(clock_res_get_far, raw_clock_res_get(0, FAR))                                                           \
    X(fd_write_iovs_far, raw_fd_write(1, FAR, 1, ptr(&ok_u32)))                                               \
    X(fd_write_iovs_end, raw_fd_write(1, mem_end() - 4, 1, ptr(&ok_u32)))                                     \
    X(fd_write_buf_far, raw_fd_write(1, iov(FAR, 16), 1, ptr(&ok_u32)))                                       \
    X(fd_write_buf_end, raw_fd_write(1, iov(mem_end() - 8, 64), 1, ptr(&ok_u32)))                             \
    X(fd_write_len_huge, raw_fd_write(1, iov(ptr(ok_buf), HUGE), 1, ptr(&ok_u32)))                            \
    X(fd_write_iovs_len_huge, raw_fd_write(1, iov(ptr(ok_buf), 1), 0x7fffffff, ptr(&ok_u32)))                 \
    X(fd_write_nwritten_far, raw_fd_write(1, iov(ptr("x\n"), 2), 1, FAR))                                     \
    X(fd_read_iovs_far, raw_fd_read(open_file("data.txt", 0), FAR, 1, ptr(&ok_u32)))                          \
    X(fd_read_buf_far, raw_fd_read(open_file("data.txt", 0), iov(FAR, 16), 1, ptr(&ok_u32)))                  \
    X(fd_read_buf_end, raw_fd_read(open_file("data.txt", 0), iov(mem_end() - 8, 64), 1, ptr(&ok_u32)))        \
    X(fd_read_len_huge, raw_fd_read(open_file("data.txt", 0), iov(ptr(ok_buf), HUGE), 1, ptr(&ok_u32)))       \
    X(fd_read_iovs_len_huge, raw_fd_read(open_file("data.txt", 0), iov(ptr(ok_buf), 1), 0x7fffffff, ptr(&ok_u32))) \
    X(fd_read_nread_far, raw_fd_read(open_file("data.txt", 0), iov(ptr(ok_buf), 16), 1, FAR))                 \
    X(fd_pread_iovs_far, raw_fd_pread(open_file("data.txt", 0), FAR, 1, 0, ptr(&ok_u32)))                     \
    X(fd_pread_buf_end, raw_fd_pread(open_file("data.txt", 0), iov(mem_end() - 8, 64), 1, 0, ptr(&ok_u32)))   \
    X(fd_pread_len_huge, raw_fd_pread(open_file("data.txt", 0), iov(ptr(ok_buf), HUGE), 1, 0, ptr(&ok_u32)))  \
    X(fd_pread_nread_far, raw_fd_pread(open_file("data.txt", 0), iov(ptr(ok_buf), 16), 1, 0, FAR))            \
    X(fd_pwrite_iovs_far, raw_fd_pwrite(open_file("scratch.txt", 1), FAR, 1, 0, ptr(&ok_u32)))                \
    X(fd_pwrite_buf_end, raw_fd_pwrite(open_file("scratch.txt", 1), iov(mem_end() - 8, 64), 1, 0, ptr(&ok_u32))) \
    X(fd_pwrite_len_huge, raw_fd_pwrite(open_file("scratch.txt", 1), iov(ptr(ok_buf), HUGE), 1, 0, ptr(&ok_u32))) \
    X(fd_pwrite_nwritten_far, raw_fd_pwrite(open_file("scratch.txt", 1), iov(ptr(ok_buf), 4), 1, 0, FAR))     \
    X(fd_readdir_buf_far, raw_fd_readdir(preopen_fd(), FAR, 4096, 0, ptr(&ok_u32)))                           \
    X(fd_readdir_buf_end, raw_fd_readdir(preopen_fd(), mem_end() - 8, 4096, 0, ptr(&ok_u32)))                 \
    X(fd_readdir_len_huge, raw_fd_readdir(preopen_fd(), ptr(ok_buf), HUGE, 0, ptr(&ok_u32)))                  \
    X(fd_readdir_bufused_far, raw_fd_readdir(preopen_fd(), ptr(ok_buf), sizeof(ok_buf), 0, FAR))              \
    X(fd_prestat_get_far, raw_fd_prestat_get(preopen_fd(), FAR))                                              \
    X(fd_prestat_dir_name_far, raw_fd_prestat_dir_name(preopen_fd(), FAR, 4096))                              \
    X(fd_prestat_dir_name_end, raw_fd_prestat_dir_name(preopen_fd(), mem_end() - 2, 4096))                    \
    X(fd_prestat_dir_name_len_huge, raw_fd_prestat_dir_name(preopen_fd(), ptr(ok_buf), HUGE))                 \
    X(fd_filestat_get_far, raw_fd_filestat_get(open_file("data.txt", 0), FAR))                                \
    X(fd_filestat_get_end, raw_fd_filestat_get(open_file("data.txt", 0), mem_end() - 8))                      \
    X(fd_fdstat_get_far, raw_fd_fdstat_get(1, FAR))                                                           \
    X(fd_seek_far, raw_fd_seek(open_file("data.txt", 0), 0, 0, FAR))                                          \
    X(fd_tell_far, raw_fd_tell(open_file("data.txt", 0), FAR))                                                \
    X(path_open_path_far, raw_path_open(preopen_fd(), 0, FAR, 10, 0, RIGHTS_ALL, RIGHTS_ALL, 0, ptr(&ok_u32))) \
    X(path_open_path_end, raw_path_open(preopen_fd(), 0, mem_end() - 2, 64, 0, RIGHTS_ALL, RIGHTS_ALL, 0, ptr(&ok_u32))) \
    X(path_open_len_huge, raw_path_open(preopen_fd(), 0, str("data.txt"), HUGE, 0, RIGHTS_ALL, RIGHTS_ALL, 0, ptr(&ok_u32))) \
    X(path_open_fd_far, raw_path_open(preopen_fd(), 0, str("data.txt"), 8, 0, RIGHTS_ALL, RIGHTS_ALL, 0, FAR)) \
    X(path_filestat_get_path_far, raw_path_filestat_get(preopen_fd(), 0, FAR, 8, ptr(ok_buf)))                \
    X(path_filestat_get_len_huge, raw_path_filestat_get(preopen_fd(), 0, str("data.txt"), HUGE, ptr(ok_buf))) \
    X(path_filestat_get_out_far, raw_path_filestat_get(preopen_fd(), 0, str("data.txt"), 8, FAR))             \
    X(path_filestat_get_out_end, raw_path_filestat_get(preopen_fd(), 0, str("data.txt"), 8, mem_end() - 8))   \
    X(path_readlink_buf_end, raw_path_readlink(preopen_fd(), str("link"), 4, mem_end() - 2, 64, ptr(&ok_u32))) \
    X(path_readlink_bufused_far, raw_path_readlink(preopen_fd(), str("link"), 4, ptr(ok_buf), 64, FAR))       \
    X(path_create_directory_far, raw_path_create_directory(preopen_fd(), FAR, 8))                             \
    X(path_unlink_file_far, raw_path_unlink_file(preopen_fd(), FAR, 8))                                       \
    X(path_rename_far, raw_path_rename(preopen_fd(), str("data.txt"), 8, preopen_fd(), FAR, 8))               \
    X(path_symlink_far, raw_path_symlink(FAR, 8, preopen_fd(), str("newlink"), 7))                            \
    X(poll_oneoff_subs_far, raw_poll_oneoff(FAR, ptr(ok_events), 1, ptr(&ok_u32)))                            \
    X(poll_oneoff_subs_end, raw_poll_oneoff(mem_end() - 16, ptr(ok_events), 1, ptr(&ok_u32)))                 \
    X(poll_oneoff_events_far, raw_poll_oneoff(clock_sub(), FAR, 1, ptr(&ok_u32)))                             \
    X(poll_oneoff_nsubs_huge, raw_poll_oneoff(clock_sub(), ptr(ok_events), 0x7fffffff, ptr(&ok_u32)))         \
    X(poll_oneoff_nevents_far, raw_poll_oneoff(clock_sub(), ptr(ok_events), 1, FAR))                          \
    X(random_get_far, raw_random_get(FAR, 32))                                                                \
    X(random_get_end, raw_random_get(mem_end() - 16, 32))                                                     \
    X(random_get_len_huge, raw_random_get(ptr(ok_buf), HUGE))                                                 \
    X(sock_recv_iovs_far, raw_sock_recv(udp_socket(), FAR, 1, 0, ptr(&ok_u32), ptr(&ok_u32)))                 \
    X(sock_recv_buf_end, raw_sock_recv(udp_socket(), iov(mem_end() - 8, 64), 1, 0, ptr(&ok_u32), ptr(&ok_u32))) \
    X(sock_recv_len_huge, raw_sock_recv(udp_socket(), iov(ptr(ok_buf), HUGE), 1, 0, ptr(&ok_u32), ptr(&ok_u32))) \
    X(sock_recv_out_far, raw_sock_recv(udp_socket(), iov(ptr(ok_buf), 16), 1, 0, FAR, FAR))                   \
    X(sock_send_iovs_far, raw_sock_send(udp_socket(), FAR, 1, 0, ptr(&ok_u32)))                               \
    X(sock_send_buf_end, raw_sock_send(udp_socket(), iov(mem_end() - 8, 64), 1, 0, ptr(&ok_u32)))             \
    X(sock_send_len_huge, raw_sock_send(udp_socket(), iov(ptr(ok_buf), HUGE), 1, 0, ptr(&ok_u32)))

int main(int argc, char **argv) {
    (void)ok_u64;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
#define LIST(name, call) printf("%s\n", #name);
        CASES(LIST)
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: p1_wild_pointers list | CASE DIR\n");
        return 100;
    }
#define RUN(name, call)                                                                                       \
    if (strcmp(argv[1], #name) == 0) {                                                                        \
        int32_t err = (call);                                                                                 \
        printf("%s errno=%d\n", #name, err);                                                                  \
        return 0;                                                                                             \
    }
    CASES(RUN)
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 100;
}
