/*  fuzz_server.c: libFuzzer target for the coordinator's message handlers
    behind the wire decoder. Each input is a conversation with a fresh
    coordinator (an in-memory store, a private inproc endpoint): a series
    of frames, each from one of four peers, so that a Hello, then a
    StudyCreate, then Reports and Finishes for the trials it assigned,
    reach the stateful paths. The input is records of

        [peer: 1 byte, low 2 bits] [length: 2 bytes, little-endian] [frame]

    (a length past the end takes the rest). Every frame runs as one loop
    turn (hpo_server_feed_tap). An Error reply is fine. A bug is a
    sanitizer report, an assert, a turn whose store fails (hpo_server_run
    would then exit, and nothing a peer sends may make the coordinator
    exit), or a reply that a strict client cannot take: one that does not
    decode, holds a string that is not UTF-8 (python-protobuf refuses the
    message), or a number that is not finite (a NaN best value).
    tests/fuzz/seeds.py writes the seed conversations.                   */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/wire.h"
#include "coordinator/server.h"

//  Frames handled per input, at most: a conversation, not a flood.
#define S_MAX_FRAMES 64

//  Whether s is well-formed UTF-8 as a strict decoder sees it: no
//  over-long forms, no surrogates, nothing past U+10FFFF.
static int
s_utf8_ok (const unsigned char *s)
{
    while (*s) {
        unsigned c = *s++;
        if (c < 0x80)
            continue;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : -1;
        if (more < 0 || c >= 0xf5)
            return 0;
        unsigned cp = c & (0x3f >> more);
        for (int k = 0; k < more; k++, s++) {
            if ((*s & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (*s & 0x3f);
        }
        static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[more] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
            return 0;
    }
    return 1;
}

//  Walks every field set in m: returns the name of the first string that
//  is not UTF-8 or double that is not finite, or NULL.
static const char *
s_bad_field (const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned k = 0; k < d->n_fields; k++) {
        const ProtobufCFieldDescriptor *f = &d->fields[k];
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        size_t n = 1;
        const void *at = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            at = *(void *const *)at;
        }
        for (size_t j = 0; j < n; j++) {
            const char *bad = NULL;
            switch (f->type) {
            case PROTOBUF_C_TYPE_STRING: {
                const char *str = ((char *const *)at)[j];
                if (str && !s_utf8_ok ((const unsigned char *)str))
                    bad = f->name;
                break;
            }
            case PROTOBUF_C_TYPE_DOUBLE:
                if (!isfinite (((const double *)at)[j]))
                    bad = f->name;
                break;
            case PROTOBUF_C_TYPE_MESSAGE: {
                const ProtobufCMessage *sub =
                    ((ProtobufCMessage *const *)at)[j];
                if (sub)
                    bad = s_bad_field (sub);
                break;
            }
            default:
                break;
            }
            if (bad)
                return bad;
        }
    }
    return NULL;
}

static void
s_tap (void *arg, const uint8_t *rid, size_t rid_size, const void *data,
       size_t size)
{
    hpo_wire_status_t status;
    hpo_env_t *env = hpo_wire_decode (data, size, &status);
    if (!env) {
        fprintf (stderr, "fuzz_server: a reply does not decode (%s)\n",
                 hpo_wire_status_str (status));
        abort ();
    }
    const char *bad = s_bad_field (&env->base);
    if (bad) {
        fprintf (stderr,
                 "fuzz_server: reply body %d to %.*s: field '%s' is not "
                 "UTF-8 or not finite\n",
                 (int)env->body_case, (int)rid_size, (const char *)rid, bad);
        abort ();
    }
    hpo_wire_free (&env);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    const char *level = getenv ("HPO_FUZZ_LOG");
    int lv = level ? hpo_log_level_parse (level) : -1;
    hpo_log_init ("fuzz_server", lv >= 0 ? (hpo_log_level_t)lv : HPO_LOG_ERROR);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const char *peers[] = {"w0", "w1", "w2", "cli"};
    hpo_server_config_t cfg = {
        .db_path = ":memory:",
        .listen = "inproc://fuzz",
        .heartbeat_ms = 100,
        .lease_ms = 300,
        .sync = HPO_SYNC_OFF,
        .max_batch = 1,
    };
    char *error = NULL;
    hpo_server_t *server = hpo_server_new (&cfg, &error);
    if (!server) {
        fprintf (stderr, "fuzz_server: %s\n", error);
        abort ();
    }
    size_t at = 0;
    for (int n = 0; at + 3 <= size && n < S_MAX_FRAMES; n++) {
        const char *peer = peers[data[at] & 3];
        size_t len = data[at + 1] | (size_t)data[at + 2] << 8;
        at += 3;
        if (len > size - at)
            len = size - at;
        //  An exact-size copy, so ASan sees any read past the frame.
        uint8_t *frame = hpo_malloc (len ? len : 1);
        memcpy (frame, data + at, len);
        at += len;
        int rc = hpo_server_feed_tap (server, (const uint8_t *)peer,
                                      strlen (peer), frame, len, s_tap, NULL);
        free (frame);
        if (rc != 0) {
            fprintf (stderr,
                     "fuzz_server: frame %d from %s made the store "
                     "fail; the coordinator would exit\n",
                     n, peer);
            abort ();
        }
    }
    hpo_server_destroy (&server);
    return 0;
}
