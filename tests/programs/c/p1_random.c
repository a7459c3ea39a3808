// random_get: two 32-byte draws printed in hex (the test checks they differ and are not all
// zero), and one 1 MiB draw, larger than any host-side chunk, of which it prints how many
// distinct byte values occur and whether the last 64 KiB is not all zero.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static void print_hex(const char *label, const unsigned char *buf, size_t len) {
    printf("%s=", label);
    for (size_t i = 0; i < len; i++) {
        printf("%02x", buf[i]);
    }
    printf("\n");
}

int main(void) {
    unsigned char a[32], b[32];
    if (getentropy(a, sizeof(a)) != 0 || getentropy(b, sizeof(b)) != 0) {
        printf("FAIL getentropy\n");
        return 1;
    }
    print_hex("first", a, sizeof(a));
    print_hex("second", b, sizeof(b));

    size_t big_len = 1 << 20;
    unsigned char *big = calloc(big_len, 1);
    if (big == NULL) {
        printf("FAIL calloc\n");
        return 1;
    }
    __wasi_errno_t err = __wasi_random_get(big, big_len);
    printf("big errno=%d\n", err);
    int seen[256] = {0};
    int distinct = 0;
    for (size_t i = 0; i < big_len; i++) {
        if (!seen[big[i]]++) {
            distinct++;
        }
    }
    printf("big distinct=%d\n", distinct);
    size_t tail_nonzero = 0;
    for (size_t i = big_len - 65536; i < big_len; i++) {
        tail_nonzero += big[i] != 0;
    }
    printf("big tail_has_data=%d\n", tail_nonzero > 60000);
    return 0;
}
