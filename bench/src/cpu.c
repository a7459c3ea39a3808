/* The CPU-bound benchmarks: no system calls inside the timed part, so the difference between
 * native and wasm is the compiled code alone.
 *
 *   cpu sha256 MIB     SHA-256 over MIB MiB (a 1 MiB buffer hashed again and again, each
 *                      pass chained into the next), timed with CLOCK_MONOTONIC
 *   cpu sieve N REPEAT the primes below N with a byte-per-number sieve, REPEAT times
 *
 * Prints "seconds=S result=R"; R is the same for the native and the wasm build. */

#include "bench.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

/* SHA-256 of len bytes (len a multiple of 64 here, so one padding block). */
static void sha256(const unsigned char *data, size_t len, unsigned char out[32])
{
    uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64)
        sha256_block(h, data + i);
    unsigned char last[128];
    size_t rest = len - full;
    memset(last, 0, sizeof(last));
    memcpy(last, data + full, rest);
    last[rest] = 0x80;
    size_t blocks = rest + 9 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        last[blocks * 64 - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t b = 0; b < blocks; b++)
        sha256_block(h, last + 64 * b);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

static unsigned char block[1024 * 1024];

static int run_sha256(long mib)
{
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (unsigned char)(i * 131 + 7);
    unsigned char digest[32];
    double start = now_seconds();
    for (long pass = 0; pass < mib; pass++) {
        sha256(block, sizeof(block), digest);
        memcpy(block, digest, sizeof(digest));
    }
    double seconds = now_seconds() - start;
    printf("seconds=%.6f result=", seconds);
    for (int i = 0; i < 32; i++)
        printf("%02x", digest[i]);
    printf("\n");
    return 0;
}

static int run_sieve(long n, long repeat)
{
    unsigned char *composite = malloc((size_t)n);
    if (composite == NULL)
        die("malloc");
    long count = 0;
    double start = now_seconds();
    for (long r = 0; r < repeat; r++) {
        memset(composite, 0, (size_t)n);
        count = 0;
        for (long i = 2; i < n; i++) {
            if (composite[i])
                continue;
            count++;
            if (i > (n - 1) / i)
                continue; /* i * i would pass n (and overflow wasm32's 32-bit long) */
            for (long j = i * i; j < n; j += i)
                composite[j] = 1;
        }
    }
    double seconds = now_seconds() - start;
    printf("seconds=%.6f result=%ld\n", seconds, count);
    free(composite);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "sha256") == 0)
        return run_sha256(parse_long(argv[2], 1, 1L << 20, "MIB"));
    if (argc == 4 && strcmp(argv[1], "sieve") == 0)
        return run_sieve(parse_long(argv[2], 3, 1L << 30, "N"), parse_long(argv[3], 1, 1000, "REPEAT"));
    printf("usage: cpu sha256 MIB | cpu sieve N REPEAT\n");
    return 2;
}
