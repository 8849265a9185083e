/*  http.c: the dashboard's HTTP server on libmicrohttpd.

    Threads. libmicrohttpd runs one thread per connection
    (MHD_USE_THREAD_PER_CONNECTION), so an event stream blocks in its
    own thread on the ring's condition variable (dash/ring.h) and a slow
    API answer delays no other request; the connection limit bounds the
    threads. One dashboard thread of ours applies the batches the loop
    pushes to the read model under the write lock, turns the changes into
    events, and appends them to the ring, at most S_FLUSHES_PER_S times a
    second: what changed in between is coalesced by the model. The loop
    thread only appends to the pending list under a mutex.

    Paths are handed on undecoded: the unescape callback is a no-op, so
    a study name with a '/' in it (%2F) stays one path segment for
    dash/api.c to decode, and the query string is rebuilt as it came.  */
#include "http.h"

#include <assert.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/mem.h"
#include "api.h"
#include "page.h"
#include "ring.h"
#include "token.h"

#define S_FLUSHES_PER_S 4
#define S_RING_EVENTS 65536
#define S_RING_BYTES (16u << 20)
#define S_KEEPALIVE_MS 15000
#define S_CONNECTIONS 64
#define S_TIMEOUT_S 60
#define S_GZIP_MIN 1024
//  The nice value of the thread applying batches (see s_yield_cpu): the
//  lowest, so a busy loop keeps its CPU (at 0 and at 10 the dashboard
//  with no client cost the throughput benchmark 18-19%, at 19 about 4%:
//  bench/run.py dashboard on the 2-core build machine).
#define S_NICE 19
//  An event stream's chunk: what one read of the ring may copy.
#define S_SSE_BLOCK (16 * 1024)

//  No network but this origin: the page is one file with its scripts and
//  styles inline, and fetches only the API.
#define S_CSP                                                                \
    "default-src 'none'; script-src 'self' 'unsafe-inline'; "               \
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "        \
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "  \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct _hpo_http_t {
    struct MHD_Daemon *daemon;
    char *token;
    char *url;
    hpo_model_t *model;
    pthread_rwlock_t lock; //  the model: applied under write, read under read
    hpo_ring_t *ring;
    pthread_mutex_t mu; //  pending and stop
    pthread_cond_t cv;
    hpo_batch_t **pending;
    size_t n_pending, cap_pending;
    int stop;
    pthread_t thread;
    int running; //  thread started
    uint8_t *page_gz;
    size_t page_gz_len;
    pthread_mutex_t log_mu; //  log_limit, for the library's messages
    hpo_log_limit_t log_limit;
};

//  ---- the dashboard thread --------------------------------------------

static void
s_on_event (void *ctx, const char *type, const char *json, size_t len)
{
    hpo_ring_append (ctx, type, json, len);
}

static void
s_ignore_event (void *ctx, const char *type, const char *json, size_t len)
{
}

//  Lowers the calling thread's CPU priority (Linux keeps a nice value
//  per thread). The thread applying batches follows the loop's every
//  commit; at the lowest priority it takes only the CPU the trial loop
//  leaves: on a machine whose cores are all busy, a page follows a
//  little later instead of the loop running slower. Nice 19 still gets
//  a share of a busy core (about 1.5% of a nice-0 thread's weight), so
//  the dashboard lags but never stops. libmicrohttpd's threads keep the
//  normal priority: they answer what a person asked for, and a 100,000-
//  trial answer starved behind busy cores took 30 s instead of 1 (the
//  browser test, with two busy loops beside it). Raising one's own nice
//  value needs no privilege; a failure leaves the thread as it was.
static void
s_yield_cpu (void)
{
    if (setpriority (PRIO_PROCESS, (id_t)syscall (SYS_gettid), S_NICE) != 0)
        hpo_log_debug ("dashboard: setpriority failed");
}

//  Applies batches (and frees them) and publishes what they changed.
static void
s_apply (hpo_http_t *self, hpo_batch_t **batches, size_t n)
{
    pthread_rwlock_wrlock (&self->lock);
    for (size_t k = 0; k < n; k++) {
        hpo_model_apply (self->model, batches[k]);
        hpo_batch_destroy (&batches[k]);
    }
    //  Appended under the write lock, so a reader's "version" (the last
    //  id) always matches the model it reads.
    hpo_model_events (self->model, hpo_clock_wall (), s_on_event, self->ring);
    pthread_rwlock_unlock (&self->lock);
    hpo_ring_wake (self->ring);
}

static void
s_deadline_after (struct timespec *ts, const struct timespec *from, long ms)
{
    *ts = *from;
    ts->tv_nsec += ms * 1000000L;
    while (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

//  Waits, holding mu, for a batch, then until a flush is due (coalescing
//  what comes meanwhile). Returns 0 to flush, -1 to stop.
static int
s_wait_flush (hpo_http_t *self, const struct timespec *last)
{
    while (!self->stop && self->n_pending == 0)
        pthread_cond_wait (&self->cv, &self->mu);
    struct timespec due;
    s_deadline_after (&due, last, 1000 / S_FLUSHES_PER_S);
    while (!self->stop &&
           pthread_cond_timedwait (&self->cv, &self->mu, &due) == 0)
        ;
    return self->stop ? -1 : 0;
}

static void *
s_run (void *arg)
{
    hpo_http_t *self = arg;
    s_yield_cpu ();
    struct timespec last = {0, 0};
    hpo_batch_t **spare = NULL; //  the pending list's other array
    size_t spare_cap = 0;
    pthread_mutex_lock (&self->mu);
    while (s_wait_flush (self, &last) == 0) {
        //  Trade the pending list for the spare one, and apply it without
        //  the mutex: the loop's pushes never wait on an apply.
        hpo_batch_t **taken = self->pending;
        size_t n = self->n_pending, taken_cap = self->cap_pending;
        self->pending = spare;
        self->cap_pending = spare_cap;
        self->n_pending = 0;
        pthread_mutex_unlock (&self->mu);
        s_apply (self, taken, n);
        spare = taken;
        spare_cap = taken_cap;
        clock_gettime (CLOCK_MONOTONIC, &last);
        pthread_mutex_lock (&self->mu);
    }
    pthread_mutex_unlock (&self->mu);
    free (spare);
    return NULL;
}

void
hpo_http_push (hpo_http_t *self, hpo_batch_t **batch_p)
{
    hpo_batch_t *batch = *batch_p;
    *batch_p = NULL;
    if (!batch)
        return;
    pthread_mutex_lock (&self->mu);
    if (self->n_pending == self->cap_pending) {
        self->cap_pending = self->cap_pending ? self->cap_pending * 2 : 64;
        self->pending = hpo_realloc (self->pending, self->cap_pending *
                                                        sizeof *self->pending);
    }
    self->pending[self->n_pending++] = batch;
    //  Only the first batch of a flush wakes the thread: it then waits
    //  out the flush interval anyway.
    if (self->n_pending == 1)
        pthread_cond_signal (&self->cv);
    pthread_mutex_unlock (&self->mu);
}

//  ---- responses ------------------------------------------------------------

//  Gzip of data (level: zlib's), or NULL if zlib fails.
static uint8_t *
s_gzip (const void *data, size_t len, int level, size_t *out_len)
{
    z_stream z = {0};
    //  15 + 16: a gzip wrapper, not zlib's.
    if (deflateInit2 (&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return NULL;
    size_t cap = deflateBound (&z, len);
    uint8_t *out = hpo_malloc (cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate (&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd (&z);
    if (rc != Z_STREAM_END) {
        free (out);
        return NULL;
    }
    return out;
}

//  Whether the request's Accept-Encoding takes gzip (and not with q=0).
static int
s_takes_gzip (struct MHD_Connection *conn)
{
    const char *ae = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (!ae)
        return 0;
    for (const char *p = ae; *p;) {
        p += strspn (p, " \t,");
        size_t name = strcspn (p, ";, \t");
        size_t item = strcspn (p, ",");
        if ((name == 4 && strncasecmp (p, "gzip", 4) == 0) ||
            (name == 1 && *p == '*')) {
            const char *q = strstr (p, "q=");
            return !(q && q < p + item && strtod (q + 2, NULL) == 0.0);
        }
        p += item;
    }
    return 0;
}

static void
s_header (struct MHD_Response *r, const char *name, const char *value)
{
    MHD_add_response_header (r, name, value);
}

//  The headers every answer carries.
static void
s_common_headers (struct MHD_Response *r, const char *type)
{
    s_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    s_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    s_header (r, "X-Content-Type-Options", "nosniff");
    s_header (r, "Referrer-Policy", "no-referrer");
}

//  Queues r (made by the caller, who may pass NULL when making it
//  failed) and lets go of it.
static enum MHD_Result
s_queue (struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return rc;
}

//  The headers of an answer that may be compressed, and is when gz.
static void
s_encoding (struct MHD_Response *r, int gz)
{
    s_header (r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (gz)
        s_header (r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
}

//  Queues body (len bytes; taken, freed with the response when own),
//  gzipped when it is worth it and the client takes it.
static enum MHD_Result
s_send (struct MHD_Connection *conn, unsigned status, const char *type,
        char *body, size_t len, int own)
{
    struct MHD_Response *r;
    int gz = 0;
    if (len >= S_GZIP_MIN && s_takes_gzip (conn)) {
        size_t zlen;
        uint8_t *z = s_gzip (body, len, 4, &zlen);
        if (z) {
            if (own)
                free (body);
            body = (char *)z;
            len = zlen;
            own = gz = 1;
        }
    }
    r = own ? MHD_create_response_from_buffer_with_free_callback (len, body,
                                                                  free)
            : MHD_create_response_from_buffer (len, body,
                                               MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (own)
            free (body);
        return MHD_NO;
    }
    s_common_headers (r, type);
    if (len >= S_GZIP_MIN || gz)
        s_encoding (r, gz);
    return s_queue (conn, status, r);
}

static enum MHD_Result
s_send_json_error (struct MHD_Connection *conn, unsigned status,
                   const char *text)
{
    char *body = hpo_sprintf ("{\"error\": \"%s\"}", text);
    return s_send (conn, status, "application/json; charset=utf-8", body,
                   strlen (body), 1);
}

//  ---- authentication -----------------------------------------------------

static int
s_token_ok (hpo_http_t *self, const char *given, size_t len, int escaped)
{
    if (!escaped)
        return hpo_token_equal (self->token, given, len);
    char *plain = hpo_token_unescape (given, len);
    int ok = hpo_token_equal (self->token, plain, strlen (plain));
    free (plain);
    return ok;
}

//  The token a request carries: a Bearer header, or the cookie.
static int
s_authorized (hpo_http_t *self, struct MHD_Connection *conn)
{
    const char *tok;
    size_t len;
    const char *auth = MHD_lookup_connection_value (
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (hpo_token_bearer (auth, &tok, &len))
        return s_token_ok (self, tok, len, 0);
    const char *cookie =
        MHD_lookup_connection_value (conn, MHD_COOKIE_KIND, "hpo_token");
    return cookie && s_token_ok (self, cookie, strlen (cookie), 1);
}

static enum MHD_Result
s_unauthorized (struct MHD_Connection *conn)
{
    static const char text[] =
        "hpo dashboard: this needs the token of --http-token-file. Open "
        "/?token=TOKEN once in the browser (it sets a cookie), or send "
        "Authorization: Bearer TOKEN.\n";
    struct MHD_Response *r = MHD_create_response_from_buffer (
        sizeof text - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    s_common_headers (r, "text/plain; charset=utf-8");
    s_header (r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return s_queue (conn, MHD_HTTP_UNAUTHORIZED, r);
}

//  The query string as it came (the unescape callback leaves it raw),
//  without the argument skip (NULL: none skipped).
typedef struct {
    char *text;
    size_t len, cap;
    const char *skip;
} s_query_t;

static void
s_query_add (s_query_t *q, const char *s, size_t n)
{
    if (q->len + n + 1 > q->cap) {
        q->cap = (q->len + n + 1) * 2;
        q->text = hpo_realloc (q->text, q->cap);
    }
    memcpy (q->text + q->len, s, n);
    q->len += n;
    q->text[q->len] = 0;
}

static enum MHD_Result
s_query_arg (void *cls, enum MHD_ValueKind kind, const char *key,
             const char *value)
{
    s_query_t *q = cls;
    if (q->skip && strcmp (key, q->skip) == 0)
        return MHD_YES;
    if (q->len)
        s_query_add (q, "&", 1);
    s_query_add (q, key, strlen (key));
    if (value) {
        s_query_add (q, "=", 1);
        s_query_add (q, value, strlen (value));
    }
    return MHD_YES;
}

//  The query string (caller frees), or NULL when there is none.
static char *
s_query (struct MHD_Connection *conn, const char *skip)
{
    s_query_t q = {.skip = skip};
    MHD_get_connection_values (conn, MHD_GET_ARGUMENT_KIND, s_query_arg, &q);
    return q.text;
}

//  /...?token=TOKEN with the right token: the cookie is set, and the
//  browser sent to the same address without the token (so it stays out
//  of the history and of what is shared).
static enum MHD_Result
s_token_redirect (hpo_http_t *self, struct MHD_Connection *conn,
                  const char *url, const char *given)
{
    if (!s_token_ok (self, given, strlen (given), 1))
        return s_unauthorized (conn);
    char *rest = s_query (conn, "token");
    //  "//host/..." would send the browser to another site.
    if (url[0] != '/' || url[1] == '/')
        url = "/";
    char *location = hpo_sprintf ("%s%s%s", url, rest ? "?" : "",
                                  rest ? rest : "");
    //  Percent-encoded: a cookie value may not hold every byte a token may.
    char value[3 * 4096 + 1];
    size_t n = 0;
    for (const char *p = self->token; *p && n + 4 < sizeof value; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum (c) || strchr ("-._~", c))
            value[n++] = (char)c;
        else
            n += (size_t)snprintf (value + n, 4, "%%%02X", c);
    }
    value[n] = 0;
    char *cookie = hpo_sprintf ("hpo_token=%s; HttpOnly; SameSite=Strict; "
                                "Path=/",
                                value);
    struct MHD_Response *r =
        MHD_create_response_from_buffer (0, "", MHD_RESPMEM_PERSISTENT);
    if (r) {
        s_common_headers (r, "text/plain; charset=utf-8");
        s_header (r, MHD_HTTP_HEADER_LOCATION, location);
        s_header (r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    }
    enum MHD_Result rc = s_queue (conn, MHD_HTTP_SEE_OTHER, r);
    free (cookie);
    free (location);
    free (rest);
    return rc;
}

//  ---- the page, the API, the events ----------------------------------------

static enum MHD_Result
s_page (hpo_http_t *self, struct MHD_Connection *conn)
{
    int gz = self->page_gz && s_takes_gzip (conn);
    struct MHD_Response *r = MHD_create_response_from_buffer (
        gz ? self->page_gz_len : hpo_page_size,
        gz ? (void *)self->page_gz : (void *)hpo_page, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    s_common_headers (r, "text/html; charset=utf-8");
    s_header (r, "Content-Security-Policy", S_CSP);
    s_header (r, "X-Frame-Options", "DENY");
    s_encoding (r, gz);
    return s_queue (conn, MHD_HTTP_OK, r);
}

static enum MHD_Result
s_api (hpo_http_t *self, struct MHD_Connection *conn, const char *url)
{
    char *query = s_query (conn, NULL);
    char *body = NULL;
    size_t len = 0;
    pthread_rwlock_rdlock (&self->lock);
    int status = hpo_api_get (self->model, url, query,
                              hpo_ring_last (self->ring), hpo_clock_wall (),
                              &body, &len);
    pthread_rwlock_unlock (&self->lock);
    free (query);
    return s_send (conn, (unsigned)status, "application/json; charset=utf-8",
                   body, len, 1);
}

typedef struct {
    hpo_http_t *http;
    hpo_ring_cursor_t cursor;
} s_stream_t;

//  An event stream's next bytes: blocks in this connection's own thread
//  until there are events, or sends a keep-alive comment after a quiet
//  S_KEEPALIVE_MS. A reader behind what the ring keeps is cut.
static ssize_t
s_stream_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    s_stream_t *s = cls;
    static const char keepalive[] = ": keep-alive\n\n";
    ssize_t n =
        hpo_ring_read (s->http->ring, &s->cursor, buf, max, S_KEEPALIVE_MS);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0) {
        n = (ssize_t)(sizeof keepalive - 1 < max ? sizeof keepalive - 1 : max);
        memcpy (buf, keepalive, (size_t)n);
    }
    return n;
}

//  The id a stream resumes after: Last-Event-ID, else ?since=. Returns
//  whether there is one.
static int
s_since (struct MHD_Connection *conn, uint64_t *since)
{
    const char *v =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (!v)
        v = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "since");
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long long id = strtoull (v, &end, 10);
    //  Not a number: resume from nothing, which resets the page.
    *since = *end ? 0 : (uint64_t)id;
    return 1;
}

static enum MHD_Result
s_events (hpo_http_t *self, struct MHD_Connection *conn)
{
    s_stream_t *s = hpo_calloc (1, sizeof *s);
    s->http = self;
    uint64_t since = 0;
    int has = s_since (conn, &since);
    hpo_ring_cursor (self->ring, &s->cursor, has, since);
    struct MHD_Response *r = MHD_create_response_from_callback (
        MHD_SIZE_UNKNOWN, S_SSE_BLOCK, s_stream_read, s, free);
    if (!r) {
        free (s);
        return MHD_NO;
    }
    s_common_headers (r, "text/event-stream; charset=utf-8");
    s_header (r, "X-Accel-Buffering", "no");
    return s_queue (conn, MHD_HTTP_OK, r);
}

static enum MHD_Result
s_route (hpo_http_t *self, struct MHD_Connection *conn, const char *url)
{
    if (strcmp (url, "/") == 0 || strcmp (url, "/index.html") == 0)
        return s_page (self, conn);
    if (strcmp (url, "/api/events") == 0)
        return s_events (self, conn);
    if (strncmp (url, "/api/", 5) == 0)
        return s_api (self, conn, url);
    return s_send_json_error (conn, MHD_HTTP_NOT_FOUND, "no such path");
}

static enum MHD_Result
s_on_request (void *cls, struct MHD_Connection *conn, const char *url,
              const char *method, const char *version, const char *upload,
              size_t *upload_size, void **con_cls)
{
    hpo_http_t *self = cls;
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp (method, MHD_HTTP_METHOD_HEAD) != 0) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer (0, "", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        s_common_headers (r, "text/plain; charset=utf-8");
        s_header (r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        //  At once, body unread: the library then closes the connection.
        return s_queue (conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    }
    //  The first call comes with the headers: answering then, before the
    //  request is read to its end, makes the library close the
    //  connection. Answered on the next call, it is kept alive.
    static int first;
    if (!*con_cls) {
        *con_cls = &first;
        return MHD_YES;
    }
    //  A GET's body, if one is sent, is read and ignored.
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    const char *given =
        MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "token");
    if (given)
        return s_token_redirect (self, conn, url, given);
    if (!s_authorized (self, conn))
        return s_unauthorized (conn);
    return s_route (self, conn, url);
}

//  Leaves the path and the arguments as they came (see the top).
static size_t
s_no_unescape (void *cls, struct MHD_Connection *conn, char *s)
{
    return strlen (s);
}

//  libmicrohttpd's messages: fmt is its own printf format.
static void s_on_log (void *cls, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 2, 0)));

static void
s_on_log (void *cls, const char *fmt, va_list ap)
{
    hpo_http_t *self = cls;
    char *line = hpo_vsprintf (fmt, ap);
    size_t n = strlen (line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = 0;
    //  A page closed or reloaded while its event stream was open: the
    //  library cannot send the next chunk. That is how every stream
    //  ends, not a fault.
    if (strstr (line, "Failed to send")) {
        hpo_log_debug ("dashboard: %s", line);
        free (line);
        return;
    }
    //  A client can make the library complain at will: rate-limited.
    pthread_mutex_lock (&self->log_mu);
    int show = hpo_log_limit (&self->log_limit, hpo_clock_mono_ms (), 10000);
    pthread_mutex_unlock (&self->log_mu);
    if (show)
        hpo_log_warnx ("dashboard: %s", line);
    free (line);
}

//  ---- life -------------------------------------------------------------------

//  Resolves cfg->listen ("PORT", "ADDR:PORT", "[ADDR6]:PORT") into *ai.
static int
s_resolve (const char *listen, struct addrinfo **ai, char **error)
{
    const char *colon = strrchr (listen, ':');
    char *host = colon ? hpo_strndup (listen, (size_t)(colon - listen))
                       : hpo_strdup ("127.0.0.1");
    const char *port = colon ? colon + 1 : listen;
    size_t hl = strlen (host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove (host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    char *end;
    long p = strtol (port, &end, 10);
    int rc = -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    if (!*port || *end || p < 0 || p > 65535)
        *error = hpo_sprintf ("--http %s: expected PORT or ADDR:PORT", listen);
    else if ((rc = getaddrinfo (*host ? host : NULL, port, &hints, ai)) != 0) {
        *error = hpo_sprintf ("--http %s: %s", listen, gai_strerror (rc));
        rc = -1;
    }
    free (host);
    return rc;
}

//  Starts the daemon on cfg->listen and sets self->url.
static int
s_start (hpo_http_t *self, const char *listen, char **error)
{
    struct addrinfo *ai = NULL;
    if (s_resolve (listen, &ai, error))
        return -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG |
                     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    self->daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_on_request, self, MHD_OPTION_EXTERNAL_LOGGER,
        s_on_log, self, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)S_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)S_TIMEOUT_S,
        MHD_OPTION_UNESCAPE_CALLBACK, s_no_unescape, NULL, MHD_OPTION_END);
    char addr[NI_MAXHOST] = "?";
    getnameinfo (ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0,
                 NI_NUMERICHOST);
    int v6 = ai->ai_family == AF_INET6;
    freeaddrinfo (ai);
    if (!self->daemon) {
        *error = hpo_sprintf ("--http %s: cannot listen there", listen);
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->url = hpo_sprintf ("http://%s%s%s:%u/", v6 ? "[" : "", addr,
                             v6 ? "]" : "", info ? info->port : 0);
    return 0;
}

//  The first base of event ids: microseconds since the epoch, above any
//  id an earlier run can have reached (it would take a million events a
//  second), so a page that resumes across a restart is told to reset.
static uint64_t
s_id_base (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

hpo_http_t *
hpo_http_new (const hpo_http_config_t *cfg, hpo_model_t **model_p,
              char **error)
{
    hpo_http_t *self = hpo_calloc (1, sizeof *self);
    self->model = *model_p;
    *model_p = NULL;
    pthread_rwlock_init (&self->lock, NULL);
    pthread_mutex_init (&self->mu, NULL);
    pthread_mutex_init (&self->log_mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->cv, &attr);
    pthread_condattr_destroy (&attr);
    self->ring = hpo_ring_new (s_id_base (), S_RING_EVENTS, S_RING_BYTES);
    //  What the snapshot loaded is in every answer, not news.
    hpo_model_events (self->model, hpo_clock_wall (), s_ignore_event, NULL);
    self->page_gz = s_gzip (hpo_page, hpo_page_size, 9, &self->page_gz_len);
    self->token = hpo_token_read (cfg->token_file, error);
    if (!self->token || s_start (self, cfg->listen, error)) {
        hpo_http_destroy (&self);
        return NULL;
    }
    if (pthread_create (&self->thread, NULL, s_run, self) != 0) {
        *error = hpo_sprintf ("dashboard: cannot start its thread");
        hpo_http_destroy (&self);
        return NULL;
    }
    self->running = 1;
    return self;
}

void
hpo_http_destroy (hpo_http_t **self_p)
{
    hpo_http_t *self = *self_p;
    if (!self)
        return;
    //  Event streams first: they block in the ring until it closes, and
    //  stopping the daemon waits for every connection's thread.
    hpo_ring_close (self->ring);
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    pthread_mutex_lock (&self->mu);
    self->stop = 1;
    pthread_cond_signal (&self->cv);
    pthread_mutex_unlock (&self->mu);
    if (self->running)
        pthread_join (self->thread, NULL);
    for (size_t k = 0; k < self->n_pending; k++)
        hpo_batch_destroy (&self->pending[k]);
    free (self->pending);
    hpo_ring_destroy (&self->ring);
    hpo_model_destroy (&self->model);
    pthread_cond_destroy (&self->cv);
    pthread_mutex_destroy (&self->log_mu);
    pthread_mutex_destroy (&self->mu);
    pthread_rwlock_destroy (&self->lock);
    free (self->page_gz);
    free (self->token);
    free (self->url);
    free (self);
    *self_p = NULL;
}

const char *
hpo_http_url (hpo_http_t *self)
{
    return self->url;
}
