/* sendmsg/recvmsg on UDP: a destination in msg_name, gather on send, scatter on receive, the
 * source address and its length, a too-short msg_namelen, and a truncated datagram.
 * One "ok"/"FAIL" line per check; the exit status is the number of failures.
 *
 *   msg [ADDRESS=127.0.0.1] */

#include <sys/time.h>
#include <sys/uio.h>

#include "common.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("%-4s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

static void send_pieces(int fd, const struct sockaddr_storage *to, socklen_t to_len)
{
    char a[] = "scatter", b[] = "/", c[] = "gather";
    struct iovec iov[3] = { { a, 7 }, { b, 1 }, { c, 6 } };
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_name = (void *)to;
    msg.msg_namelen = to_len;
    msg.msg_iov = iov;
    msg.msg_iovlen = 3;
    ssize_t n = sendmsg(fd, &msg, 0);
    if (n < 0)
        die("sendmsg");
    printf("sendmsg sent %zd bytes from 3 buffers\n", n);
}

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1";
    char text[64], line[160];
    line_buffered_stdout();

    struct sockaddr_storage rx_addr;
    socklen_t rx_len = make_addr(address, "0", &rx_addr);
    int rx = socket(rx_addr.ss_family, SOCK_DGRAM, 0);
    int tx = socket(rx_addr.ss_family, SOCK_DGRAM, 0);
    if (rx < 0 || tx < 0)
        die("socket");
    if (bind(rx, (struct sockaddr *)&rx_addr, rx_len) != 0)
        die("bind");
    rx_len = sizeof(rx_addr);
    if (getsockname(rx, (struct sockaddr *)&rx_addr, &rx_len) != 0)
        die("getsockname");
    struct timeval timeout = { .tv_sec = 5, .tv_usec = 0 };
    if (setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0)
        die("setsockopt(SO_RCVTIMEO)");
    printf("receiver on %s\n", addr_text((struct sockaddr *)&rx_addr, rx_len, text, sizeof(text)));

    /* 1. gather -> scatter, with the source address */
    send_pieces(tx, &rx_addr, rx_len);
    struct sockaddr_storage tx_addr;
    socklen_t tx_len = sizeof(tx_addr);
    if (getsockname(tx, (struct sockaddr *)&tx_addr, &tx_len) != 0)
        die("getsockname(sender)");
    char first[5], rest[64];
    struct iovec iov[2] = { { first, sizeof(first) }, { rest, sizeof(rest) } };
    struct sockaddr_storage from;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t n = recvmsg(rx, &msg, 0);
    if (n < 0)
        die("recvmsg");
    printf("recvmsg got %zd bytes: [%.5s][%.*s] from %s, msg_namelen %u, msg_flags 0x%x\n", n,
           first, (int)(n > 5 ? n - 5 : 0), rest,
           addr_text((struct sockaddr *)&from, msg.msg_namelen, text, sizeof(text)),
           (unsigned)msg.msg_namelen, (unsigned)msg.msg_flags);
    check(n == 14 && memcmp(first, "scatt", 5) == 0 && memcmp(rest, "er/gather", 9) == 0,
          "data scattered over two buffers");
    uint16_t tx_port = ntohs(((struct sockaddr_in *)&tx_addr)->sin_port);
    uint16_t from_port = ntohs(((struct sockaddr_in *)&from)->sin_port);
    snprintf(line, sizeof(line), "source port %u is the sender's port %u", from_port, tx_port);
    check(msg.msg_namelen == rx_len && from.ss_family == rx_addr.ss_family &&
              from_port == tx_port,
          line);

    /* 2. msg_namelen too short: only that much is written, the full length is returned */
    send_pieces(tx, &rx_addr, rx_len);
    unsigned char small[sizeof(struct sockaddr_storage)];
    memset(small, 0xAA, sizeof(small));
    msg.msg_name = small;
    msg.msg_namelen = 4;
    iov[0].iov_len = sizeof(first);
    n = recvmsg(rx, &msg, 0);
    if (n < 0)
        die("recvmsg (short name)");
    snprintf(line, sizeof(line), "msg_namelen 4 -> %u, byte 4 untouched (0x%02x)",
             (unsigned)msg.msg_namelen, small[4]);
    check(msg.msg_namelen == rx_len && small[4] == 0xAA, line);

    /* 3. a datagram larger than the buffer */
    char big[20];
    memset(big, 'x', sizeof(big));
    if (sendto(tx, big, sizeof(big), 0, (struct sockaddr *)&rx_addr, rx_len) != sizeof(big))
        die("sendto");
    char tiny[8];
    struct iovec one = { tiny, sizeof(tiny) };
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &one;
    msg.msg_iovlen = 1;
    n = recvmsg(rx, &msg, 0);
    if (n < 0)
        die("recvmsg (truncated)");
    snprintf(line, sizeof(line), "truncated datagram: got %zd of 20 bytes", n);
    check(n == 8, line);
    printf("info MSG_TRUNC reported: %s\n", (msg.msg_flags & MSG_TRUNC) ? "yes" : "no");

    close(rx);
    close(tx);
    printf("%d failures\n", failures);
    return failures;
}
