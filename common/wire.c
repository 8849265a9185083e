#include "wire.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mem.h"

const char *
hpo_wire_status_str (hpo_wire_status_t status)
{
    switch (status) {
    case HPO_WIRE_OK:
        return "ok";
    case HPO_WIRE_TOO_LARGE:
        return "message too large";
    case HPO_WIRE_UNDECODABLE:
        return "message does not decode";
    case HPO_WIRE_BAD_VERSION:
        return "wrong protocol version";
    case HPO_WIRE_NO_BODY:
        return "message has no body";
    case HPO_WIRE_BAD_FRAMES:
        return "wrong number of frames";
    }
    return "unknown";
}

static size_t s_limit = HPO_WIRE_MAX_BYTES;

void
hpo_wire_set_limit (size_t max_bytes)
{
    s_limit = max_bytes;
}

size_t
hpo_wire_limit (void)
{
    return s_limit;
}

void
hpo_wire_init (hpo_env_t *env, uint64_t seq)
{
    hpo__envelope__init (env);
    env->version = HPO_WIRE_VERSION;
    env->seq = seq;
}

//  ---- the arena ----------------------------------------------------------

#define S_ARENA_CHUNK (256 * 1024)

typedef struct s_chunk_t {
    struct s_chunk_t *next;
    size_t size, used;
    max_align_t data[];
} s_chunk_t;

static s_chunk_t *s_chunks; //  newest first; the oldest is kept on reset
static int s_arena_on;

static s_chunk_t *
s_chunk_new (size_t size)
{
    s_chunk_t *chunk = hpo_malloc (sizeof *chunk + size);
    chunk->size = size;
    chunk->used = 0;
    chunk->next = s_chunks;
    s_chunks = chunk;
    return chunk;
}

static void *
s_arena_alloc (void *unused, size_t size)
{
    size_t align = sizeof (max_align_t);
    size = (size + align - 1) / align * align;
    s_chunk_t *chunk = s_chunks;
    if (!chunk || chunk->size - chunk->used < size)
        chunk = s_chunk_new (size > S_ARENA_CHUNK ? size : S_ARENA_CHUNK);
    void *p = (char *)chunk->data + chunk->used;
    chunk->used += size;
    return p;
}

static void
s_arena_free (void *unused, void *ptr)
{
}

static ProtobufCAllocator s_arena = {s_arena_alloc, s_arena_free, NULL};

void
hpo_wire_arena_begin (void)
{
    s_arena_on = 1;
}

void
hpo_wire_arena_end (void)
{
    s_arena_on = 0;
    //  Keep one chunk of the usual size for the next turn.
    s_chunk_t *keep = NULL;
    while (s_chunks) {
        s_chunk_t *next = s_chunks->next;
        if (!keep && s_chunks->size == S_ARENA_CHUNK)
            keep = s_chunks;
        else
            free (s_chunks);
        s_chunks = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    s_chunks = keep;
}

hpo_env_t *
hpo_wire_decode (const void *data, size_t size, hpo_wire_status_t *status)
{
    if (size > s_limit) {
        *status = HPO_WIRE_TOO_LARGE;
        return NULL;
    }
    ProtobufCAllocator *alloc = s_arena_on ? &s_arena : NULL;
    hpo_env_t *env = hpo__envelope__unpack (alloc, size, data);
    if (!env) {
        *status = HPO_WIRE_UNDECODABLE;
        return NULL;
    }
    if (env->version != HPO_WIRE_VERSION) {
        hpo__envelope__free_unpacked (env, alloc);
        *status = HPO_WIRE_BAD_VERSION;
        return NULL;
    }
    if (env->body_case == HPO__ENVELOPE__BODY__NOT_SET) {
        hpo__envelope__free_unpacked (env, alloc);
        *status = HPO_WIRE_NO_BODY;
        return NULL;
    }
    *status = HPO_WIRE_OK;
    return env;
}

void
hpo_wire_free (hpo_env_t **env_p)
{
    if (*env_p) {
        if (!s_arena_on)
            hpo__envelope__free_unpacked (*env_p, NULL);
        *env_p = NULL;
    }
}

uint8_t *
hpo_wire_encode (const hpo_env_t *env, size_t *size)
{
    *size = hpo__envelope__get_packed_size (env);
    uint8_t *buf = hpo_malloc (*size);
    hpo__envelope__pack (env, buf);
    return buf;
}

static void
s_free_buf (void *data, void *hint)
{
    free (data);
}

int
hpo_wire_send (void *socket, const void *rid, size_t rid_size,
               const hpo_env_t *env)
{
    if (rid && zmq_send (socket, rid, rid_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    size_t size;
    uint8_t *buf = hpo_wire_encode (env, &size);
    zmq_msg_t msg;
    zmq_msg_init_data (&msg, buf, size, s_free_buf, NULL);
    if (zmq_msg_send (&msg, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        return -1;
    }
    return 0;
}

//  Reads and discards the rest of a multipart message.
static void
s_drain (void *socket)
{
    int more = 1;
    size_t more_size = sizeof more;
    while (zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &more_size) == 0 &&
           more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            break;
        }
        zmq_msg_close (&part);
    }
}

static int
s_has_more (void *socket)
{
    int more = 0;
    size_t more_size = sizeof more;
    zmq_getsockopt (socket, ZMQ_RCVMORE, &more, &more_size);
    return more;
}

hpo_env_t *
hpo_wire_recv (void *socket, uint8_t *rid, size_t *rid_size,
               hpo_wire_status_t *status)
{
    *status = HPO_WIRE_OK;
    zmq_msg_t msg;
    if (rid) {
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            return NULL;
        }
        size_t n = zmq_msg_size (&msg);
        if (n > HPO_WIRE_MAX_RID)
            n = HPO_WIRE_MAX_RID;
        memcpy (rid, zmq_msg_data (&msg), n);
        *rid_size = n;
        zmq_msg_close (&msg);
        if (!s_has_more (socket)) {
            *status = HPO_WIRE_BAD_FRAMES;
            return NULL;
        }
    }
    zmq_msg_init (&msg);
    if (zmq_msg_recv (&msg, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&msg);
        if (rid)
            *status = HPO_WIRE_BAD_FRAMES;
        return NULL;
    }
    hpo_env_t *env = NULL;
    if (s_has_more (socket)) {
        s_drain (socket);
        *status = HPO_WIRE_BAD_FRAMES;
    } else
        env =
            hpo_wire_decode (zmq_msg_data (&msg), zmq_msg_size (&msg), status);
    zmq_msg_close (&msg);
    return env;
}

Hpo__Param **
hpo_wire_params_new (char *const *names, const hpo_value_t *values, size_t n)
{
    Hpo__Param **params = hpo_calloc (n, sizeof (Hpo__Param *));
    for (size_t k = 0; k < n; k++) {
        Hpo__Param *p = hpo_malloc (sizeof *p);
        hpo__param__init (p);
        p->name = names[k];
        p->kind = values[k].kind;
        p->f = values[k].f;
        p->i = values[k].i;
        if (values[k].kind == HPO_KIND_STR && values[k].s)
            p->s = values[k].s;
        params[k] = p;
    }
    return params;
}

void
hpo_wire_params_free (Hpo__Param **params, size_t n)
{
    //  The strings are borrowed from the caller's arrays.
    for (size_t k = 0; k < n; k++)
        free (params[k]);
    free (params);
}

int
hpo_wire_param_get (const Hpo__Param *param, hpo_value_t *value)
{
    memset (value, 0, sizeof *value);
    switch (param->kind) {
    case HPO_KIND_FLOAT:
        value->kind = HPO_KIND_FLOAT;
        value->f = param->f;
        return 0;
    case HPO_KIND_INT:
        value->kind = HPO_KIND_INT;
        value->i = param->i;
        value->f = (double)param->i;
        return 0;
    case HPO_KIND_STR:
        value->kind = HPO_KIND_STR;
        value->s = hpo_strdup (param->s ? param->s : "");
        return 0;
    }
    return -1;
}
