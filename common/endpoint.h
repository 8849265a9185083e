/*  endpoint.h: is this an endpoint we can connect to? ZeroMQ takes a
    malformed tcp:// endpoint (a port of 99999, a host that does not
    resolve) without a word and retries in the background for ever, so a
    client that trusted it would wait out its timeout and then blame the
    peer. This says at once what is wrong.

    Accepted, as ZeroMQ reads them for connecting:

        tcp://HOST:PORT         HOST a name or IPv4 address; PORT 1-65535
        tcp://[IPV6]:PORT       an IPv6 address in brackets
        tcp://SOURCE;HOST:PORT  a source address to connect from (checked
                                no further; ZeroMQ reads it)
        ipc://PATH              a Unix socket, PATH at most 107 bytes
        inproc://NAME           within one process                        */
#ifndef HPO_ENDPOINT_H
#define HPO_ENDPOINT_H

//  Also look the host up (getaddrinfo), as ZeroMQ will: IPv4 for a name,
//  IPv6 for a bracketed address. This can take as long as the resolver
//  does; without it only the form is checked, for a daemon that should
//  start even while DNS is not yet up.
#define HPO_ENDPOINT_RESOLVE 1

//  Returns 0 if endpoint is one to connect to, or -1 with *why set to a
//  malloc'd phrase the caller frees, meant to follow "bad endpoint
//  'ENDPOINT': ": "port 99999 is not 1-65535", "host nowhere.invalid does
//  not resolve: Name or service not known", "unknown transport 'udp'
//  (want tcp://HOST:PORT, ipc://PATH or inproc://NAME)".
int hpo_endpoint_check (const char *endpoint, int flags, char **why);

//  Whether a socket connecting to endpoint needs ZMQ_IPV6 set: without it
//  ZeroMQ looks hosts up for IPv4 only, and would never reach a bracketed
//  IPv6 address however long it tried.
int hpo_endpoint_ipv6 (const char *endpoint);

#endif
