/*  fuzz_server.c: libFuzzer target for the coordinator's message handlers
    behind the wire decoder. Each input is a conversation with a fresh
    coordinator (an in-memory store, a private inproc endpoint): a series
    of frames, each from one of four peers, so that a Hello, then a
    StudyCreate, then Reports and Finishes for the trials it assigned,
    reach the stateful paths. The input is records of

        [peer: 1 byte, low 2 bits] [length: 2 bytes, little-endian] [frame]

    (a length past the end takes the rest). Every frame runs as one loop
    turn (hpo_server_feed). An Error reply is fine. A bug is a sanitizer
    report, an assert, or a turn whose store fails: hpo_server_run would
    then exit, and nothing a peer sends may make the coordinator exit.
    tests/fuzz/seeds.py writes the seed conversations.                   */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "coordinator/server.h"

//  Frames handled per input, at most: a conversation, not a flood.
#define S_MAX_FRAMES 64

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
        int rc = hpo_server_feed (server, (const uint8_t *)peer, strlen (peer),
                                  frame, len);
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
