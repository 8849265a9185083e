/*  test_handlers: the loop's handlers through the feed hook (no sockets
    but the server's own): a worker's Hello is welcomed, the CLI's
    read-only requests are answered from query.c in the same turn, bad
    input is answered with an Error, and a routing id too long to keep is
    dropped instead of asserted on.                                      */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/wire.h"
#include "../../coordinator/server.h"
#include "testutil.h"

typedef struct {
    int n;
    Hpo__Envelope__BodyCase body;
    uint64_t seq;
    size_t rid_size;
    Hpo__ErrorCode code;
    size_t n_workers;
} s_seen_t;

static void
s_tap (void *arg, const uint8_t *rid, size_t rid_size, const void *data,
       size_t size)
{
    s_seen_t *seen = arg;
    hpo_wire_status_t status;
    hpo_env_t *env = hpo_wire_decode (data, size, &status);
    CHECK (env != NULL);
    seen->n++;
    seen->rid_size = rid_size;
    if (!env)
        return;
    seen->body = env->body_case;
    seen->seq = env->seq;
    if (env->body_case == HPO__ENVELOPE__BODY_ERROR)
        seen->code = env->error->code;
    if (env->body_case == HPO__ENVELOPE__BODY_WORKER_LIST)
        seen->n_workers = env->worker_list->n_workers;
    hpo_wire_free (&env);
}

//  Feeds msg as if from rid; returns what came back.
static s_seen_t
s_feed (hpo_server_t *server, const char *rid, size_t rid_size,
        hpo_wire_msg_t *msg)
{
    size_t size;
    uint8_t *frame = hpo_wire_encode (&msg->env, &size);
    hpo_wire_msg_done (msg);
    s_seen_t seen = {0};
    CHECK (hpo_server_feed_tap (server, (const uint8_t *)rid, rid_size, frame,
                                size, s_tap, &seen) == 0);
    free (frame);
    return seen;
}

//  A coordinator on a new database in dir (a mkdtemp template), its
//  path in db; NULL (said) if it cannot start.
static hpo_server_t *
s_server (char *dir, char *db, size_t db_size)
{
    CHECK (mkdtemp (dir) != NULL);
    snprintf (db, db_size, "%s/hpo.db", dir);
    hpo_server_config_t cfg = {.db_path = db,
                               .listen = "tcp://127.0.0.1:*",
                               .heartbeat_ms = 1000,
                               .lease_ms = 10000,
                               .sync = HPO_SYNC_OFF};
    char *error = NULL;
    hpo_server_t *server = hpo_server_new (&cfg, &error);
    CHECK (server != NULL);
    if (!server)
        fprintf (stderr, "%s\n", error);
    free (error);
    return server;
}

int
main (void)
{
    char dir[] = "/tmp/hpo-test-server-XXXXXX";
    char db[256];
    hpo_server_t *server = s_server (dir, db, sizeof db);
    if (!server)
        return 1;
    CHECK (strncmp (hpo_server_endpoint (server), "tcp://127.0.0.1:", 16) == 0);

    hpo_wire_msg_t msg;
    hpo_wire_hello (&msg, 5, "w1", "box", 2, 42, 7, 1);
    s_seen_t seen = s_feed (server, "w1", 2, &msg);
    CHECK (seen.n == 1 && seen.body == HPO__ENVELOPE__BODY_WELCOME);
    CHECK (seen.seq == 5 && seen.rid_size == 2);

    //  A query is answered in its turn, with the request's seq.
    hpo_wire_workers (&msg, 9);
    seen = s_feed (server, "cli", 3, &msg);
    CHECK (seen.n == 1 && seen.body == HPO__ENVELOPE__BODY_WORKER_LIST);
    CHECK (seen.seq == 9 && seen.n_workers == 1);
    hpo_wire_study_show (&msg, 10, "nope");
    seen = s_feed (server, "cli", 3, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_ERROR);
    CHECK (seen.code == HPO__ERROR_CODE__ERR_NOT_FOUND);
    hpo_wire_study_list (&msg, 11);
    seen = s_feed (server, "cli", 3, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_STUDY_LIST && seen.seq == 11);

    //  A peer sending something other than a request is told so.
    hpo_wire_ack (&msg, 12);
    seen = s_feed (server, "cli", 3, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_ERROR);
    CHECK (seen.code == HPO__ERROR_CODE__ERR_BAD_MESSAGE);

    //  A routing id longer than HPO_WIRE_MAX_RID was an assert (a crash
    //  of the coordinator in a fuzzer's or a test's hands): now the
    //  message is dropped as bad, and no reply can go anywhere.
    char long_rid[HPO_WIRE_MAX_RID + 1];
    memset (long_rid, 'r', sizeof long_rid);
    hpo_wire_study_list (&msg, 13);
    seen = s_feed (server, long_rid, sizeof long_rid, &msg);
    CHECK (seen.n == 0);

    hpo_server_destroy (&server);
    CHECK (server == NULL);
    unlink (db);
    char path[300];
    snprintf (path, sizeof path, "%s-wal", db);
    unlink (path);
    snprintf (path, sizeof path, "%s-shm", db);
    unlink (path);
    rmdir (dir);
    TEST_DONE ();
}

//  A Hello's and Heartbeat's resources (issue #11) are checked, never
//  asserted on: two entries of one GPU index (two trials would share the
//  device), too many GPUs or busy ones, absurd CPUs are refused. A
//  constructor with its own server, clear of other changes to main.
__attribute__ ((constructor)) static void
s_test_resources (void)
{
    char dir[] = "/tmp/hpo-test-server-XXXXXX";
    char db[256];
    hpo_server_t *server = s_server (dir, db, sizeof db);
    if (!server)
        return;
    Hpo__Gpu g[1100];
    Hpo__Gpu *gp[1100];
    for (size_t k = 0; k < 1100; k++) {
        hpo__gpu__init (&g[k]);
        g[k].index = (uint32_t)k;
        gp[k] = &g[k];
    }
    uint32_t busy[1100] = {0};
    hpo_wire_msg_t msg;
    //  Fine: two GPUs, one busy.
    hpo_wire_hello (&msg, 1, "g1", "box", 2, 42, 7, 1);
    hpo_wire_hello_resources (&msg, gp, 2, 16);
    hpo_wire_busy_gpus (&msg, busy, 1);
    s_seen_t seen = s_feed (server, "g1", 2, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_WELCOME);
    //  The same index twice.
    g[1].index = 0;
    hpo_wire_hello (&msg, 2, "g2", "box", 2, 43, 8, 1);
    hpo_wire_hello_resources (&msg, gp, 2, 16);
    seen = s_feed (server, "g2", 2, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_ERROR &&
           seen.code == HPO__ERROR_CODE__ERR_INVALID);
    g[1].index = 1;
    //  Too many GPUs; too many CPUs.
    hpo_wire_hello (&msg, 3, "g3", "box", 2, 44, 9, 1);
    hpo_wire_hello_resources (&msg, gp, 1025, 16);
    seen = s_feed (server, "g3", 2, &msg);
    CHECK (seen.code == HPO__ERROR_CODE__ERR_INVALID);
    hpo_wire_hello (&msg, 4, "g4", "box", 2, 45, 10, 1);
    hpo_wire_hello_resources (&msg, gp, 1, 65537);
    seen = s_feed (server, "g4", 2, &msg);
    CHECK (seen.code == HPO__ERROR_CODE__ERR_INVALID);
    //  A heartbeat listing more busy GPUs than a worker may have.
    hpo_wire_heartbeat (&msg, 5, 1);
    hpo_wire_busy_gpus (&msg, busy, 1025);
    seen = s_feed (server, "g1", 2, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_ERROR &&
           seen.code == HPO__ERROR_CODE__ERR_INVALID);
    hpo_wire_heartbeat (&msg, 6, 1);
    hpo_wire_busy_gpus (&msg, busy, 2);
    seen = s_feed (server, "g1", 2, &msg);
    CHECK (seen.body == HPO__ENVELOPE__BODY_ACK);
    hpo_server_destroy (&server);
    char cmd[320];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK (system (cmd) == 0);
}
