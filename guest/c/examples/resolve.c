/* getaddrinfo with several hints, and getnameinfo. Only NAME goes to the runtime's resolver
 * (wasock/iwasm need --allow-resolve=NAME); the numeric and NULL-node cases never do.
 *
 *   resolve [NAME=localhost]
 *
 * Each query prints "query: ..." and then one line per result, or the error. */

#include "common.h"

static const char *family_name(int family)
{
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

static const char *socktype_name(int type)
{
    return type == SOCK_STREAM ? "SOCK_STREAM" : type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_?";
}

static void query(const char *label, const char *node, const char *service, int family,
                  int socktype, int flags)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_flags = flags;
    printf("query: %s\n", label);
    int rc = getaddrinfo(node, service, &hints, &res);
    if (rc != 0) {
        if (rc == EAI_SYSTEM)
            printf("  error %d: %s: %s (errno %d)\n", rc, gai_strerror(rc), strerror(errno), errno);
        else
            printf("  error %d: %s\n", rc, gai_strerror(rc));
        return;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[64];
        printf("  %s %s %s", family_name(ai->ai_family), socktype_name(ai->ai_socktype),
               addr_text(ai->ai_addr, ai->ai_addrlen, text, sizeof(text)));
        if (ai->ai_canonname != NULL)
            printf(" canonname %s", ai->ai_canonname);
        printf("\n");
    }
    freeaddrinfo(res);
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "localhost";
    char label[128];
    line_buffered_stdout();

    snprintf(label, sizeof(label), "%s port 80, any family, stream", name);
    query(label, name, "80", AF_UNSPEC, SOCK_STREAM, 0);
    snprintf(label, sizeof(label), "%s port 80, IPv4, any socket type", name);
    query(label, name, "80", AF_INET, 0, 0);
    snprintf(label, sizeof(label), "%s, IPv4 datagram, AI_CANONNAME", name);
    query(label, name, NULL, AF_INET, SOCK_DGRAM, AI_CANONNAME);
    snprintf(label, sizeof(label), "%s with AI_NUMERICHOST", name);
    query(label, name, "80", AF_UNSPEC, SOCK_STREAM, AI_NUMERICHOST);

    query("NULL node port 8080, AI_PASSIVE", NULL, "8080", AF_UNSPEC, SOCK_STREAM, AI_PASSIVE);
    query("NULL node port 8080", NULL, "8080", AF_UNSPEC, SOCK_STREAM, 0);
    query("127.0.0.1 port 9, datagram", "127.0.0.1", "9", AF_UNSPEC, SOCK_DGRAM, 0);
    query("::1 port 443, any socket type", "::1", "443", AF_UNSPEC, 0, 0);
    query("127.0.0.1 as IPv6 with AI_V4MAPPED", "127.0.0.1", "1", AF_INET6, SOCK_STREAM,
          AI_V4MAPPED);
    query("127.0.0.1 service \"http\"", "127.0.0.1", "http", AF_UNSPEC, SOCK_STREAM, 0);
    query("127.0.0.1 service \"http\", AI_NUMERICSERV", "127.0.0.1", "http", AF_UNSPEC,
          SOCK_STREAM, AI_NUMERICSERV);
    query("bad socket type", "127.0.0.1", "80", AF_UNSPEC, 12345, 0);

    printf("getnameinfo:\n");
    struct sockaddr_storage ss;
    socklen_t len = make_addr("127.0.0.1", "8080", &ss);
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    int rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                         NI_NUMERICHOST | NI_NUMERICSERV);
    printf("  127.0.0.1:8080 numeric: rc %d host %s serv %s\n", rc, rc ? "-" : host,
           rc ? "-" : serv);
    len = make_addr("::1", "22", &ss);
    rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                     NI_NUMERICHOST | NI_NUMERICSERV);
    printf("  [::1]:22 numeric: rc %d host %s serv %s\n", rc, rc ? "-" : host, rc ? "-" : serv);
    rc = getnameinfo((struct sockaddr *)&ss, len, host, 2, NULL, 0, NI_NUMERICHOST);
    printf("  [::1] into 2 bytes: %s\n", gai_strerror(rc));
    return 0;
}
