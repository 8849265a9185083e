/*  endpoint.c: endpoint checks (endpoint.h). The form is checked by hand,
    strictly, so that the message can say which part is wrong; the host is
    then looked up the way ZeroMQ will look it up when it connects.       */
#include "endpoint.h"

#include <assert.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "mem.h"

#define S_WANT "want tcp://HOST:PORT, ipc://PATH or inproc://NAME"

static bool
s_name_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

//  An IPv6 address as written between brackets, with an optional zone
//  ("fe80::1%eth0"): the resolver judges the rest.
static bool
s_ipv6_text (const char *s, size_t n)
{
    size_t k = 0;
    for (; k < n && s[k] != '%'; k++)
        if (!strchr ("0123456789abcdefABCDEF:.", s[k]))
            return false;
    if (k < n)
        for (k++; k < n; k++)
            if (!s_name_char (s[k]))
                return false;
    return n > 0 && memchr (s, ':', n);
}

static int
s_port (const char *port, char **why)
{
    size_t n = strlen (port);
    if (n == 0)
        *why = hpo_strdup ("missing port (want HOST:PORT)");
    else if (strcmp (port, "*") == 0)
        *why = hpo_strdup ("port * is for binding; give the port to "
                           "connect to");
    else if (strspn (port, "0123456789") != n || n > 5 || atoi (port) < 1 ||
             atoi (port) > 65535)
        *why = hpo_sprintf ("port %.40s is not 1-65535", port);
    else
        return 0;
    return -1;
}

static int
s_resolve (const char *host, bool ipv6, char **why)
{
    //  As ZeroMQ does without ZMQ_IPV6: names are looked up for IPv4
    //  only. A bracketed address is taken as written.
    struct addrinfo hints = {.ai_family = ipv6 ? AF_INET6 : AF_INET,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = ipv6 ? AI_NUMERICHOST : 0};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (host, NULL, &hints, &found);
    if (found)
        freeaddrinfo (found);
    if (rc == 0)
        return 0;
    if (ipv6)
        *why = hpo_sprintf ("%.100s is not an IPv6 address", host);
    else
        *why = hpo_sprintf ("host %.100s does not resolve: %s", host,
                            gai_strerror (rc));
    return -1;
}

static int
s_tcp (const char *address, int flags, char **why)
{
    //  ZeroMQ takes the last ';' as the end of a source address.
    const char *semi = strrchr (address, ';');
    if (semi && semi == address) {
        *why = hpo_strdup ("empty source address before ';'");
        return -1;
    }
    const char *dest = semi ? semi + 1 : address;
    const char *host = dest, *host_end, *colon;
    bool ipv6 = *dest == '[';
    if (ipv6) {
        host = dest + 1;
        host_end = strchr (host, ']');
        if (!host_end) {
            *why = hpo_strdup ("'[' without ']' (want tcp://[IPV6]:PORT)");
            return -1;
        }
        colon = host_end + 1;
        if (*colon != ':') {
            *why = hpo_strdup ("missing :PORT after ']'");
            return -1;
        }
    } else {
        colon = strrchr (dest, ':');
        if (!colon) {
            *why = hpo_strdup ("missing :PORT (want tcp://HOST:PORT)");
            return -1;
        }
        host_end = colon;
    }
    size_t n = (size_t)(host_end - host);
    if (n == 0) {
        *why = hpo_strdup ("missing host (want tcp://HOST:PORT)");
        return -1;
    }
    if (s_port (colon + 1, why))
        return -1;
    if (!ipv6 && n == 1 && *host == '*') {
        *why = hpo_strdup ("host * is for binding; give the host to "
                           "connect to");
        return -1;
    }
    bool ok = ipv6 ? s_ipv6_text (host, n) : true;
    for (size_t k = 0; !ipv6 && k < n; k++)
        ok = ok && s_name_char (host[k]);
    if (!ok) {
        bool colons = !ipv6 && memchr (host, ':', n);
        *why = colons ? hpo_strdup ("an IPv6 address goes in brackets, as in "
                                    "tcp://[::1]:5555")
                      : hpo_sprintf ("bad host '%.*s'",
                                     (int)(n > 100 ? 100 : n), host);
        return -1;
    }
    if (!(flags & HPO_ENDPOINT_RESOLVE))
        return 0;
    char *name = hpo_strndup (host, n);
    int rc = s_resolve (name, ipv6, why);
    free (name);
    return rc;
}

int
hpo_endpoint_check (const char *endpoint, int flags, char **why)
{
    assert (why);
    *why = NULL;
    if (!endpoint || !*endpoint) {
        *why = hpo_strdup ("empty endpoint (" S_WANT ")");
        return -1;
    }
    const char *sep = strstr (endpoint, "://");
    if (!sep) {
        *why = hpo_strdup ("no transport (" S_WANT ")");
        return -1;
    }
    size_t n = (size_t)(sep - endpoint);
    const char *address = sep + 3;
    if (n == 3 && memcmp (endpoint, "tcp", 3) == 0)
        return s_tcp (address, flags, why);
    if ((n == 3 && memcmp (endpoint, "ipc", 3) == 0) ||
        (n == 6 && memcmp (endpoint, "inproc", 6) == 0)) {
        size_t max = sizeof ((struct sockaddr_un *)0)->sun_path - 1;
        if (!*address)
            *why = hpo_strdup (n == 3 ? "empty ipc path" : "empty inproc name");
        else if (n == 3 && strlen (address) > max)
            *why = hpo_sprintf ("ipc path longer than %zu bytes", max);
        return *why ? -1 : 0;
    }
    *why = hpo_sprintf ("unknown transport '%.*s' (" S_WANT ")",
                        (int)(n > 20 ? 20 : n), endpoint);
    return -1;
}

int
hpo_endpoint_ipv6 (const char *endpoint)
{
    return strncmp (endpoint, "tcp://", 6) == 0 &&
           strchr (endpoint, '[') != NULL;
}
