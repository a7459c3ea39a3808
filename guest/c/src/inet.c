/* inet_addr and inet_ntoa, which Debian's 2022 wasi-libc lacks (newer ones have them: ours
 * are weak and come from a separate archive member, so they never clash). */

#include <stdio.h>

#include "internal.h"

WASOCK_WEAK in_addr_t inet_addr(const char *text)
{
    struct in_addr addr;
    if (text == NULL || !inet_aton(text, &addr))
        return INADDR_NONE;
    return addr.s_addr;
}

WASOCK_WEAK char *inet_ntoa(struct in_addr in)
{
    /* POSIX: the result lives in a static buffer that the next call overwrites. */
    static char text[INET_ADDRSTRLEN];
    const unsigned char *o = (const unsigned char *)&in.s_addr;
    snprintf(text, sizeof(text), "%u.%u.%u.%u", o[0], o[1], o[2], o[3]);
    return text;
}
