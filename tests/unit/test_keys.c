/*  test_keys.c: key files, the allow directory, the ZAP decision, which
    endpoints are local, and real CURVE handshakes: an allowed key is
    served with its roles in the User-Id; a key not allowed, no key, and
    a wrong server key are each refused, and the client's watch says so. */
#include <czmq.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../../common/clock.h"
#include "../../common/keys.h"
#include "../../common/mem.h"
#include "../../common/sock.h"
#include "testutil.h"

static char s_dir[256];

static char *
s_path (const char *rel)
{
    return hpo_sprintf ("%s/%s", s_dir, rel);
}

static void
test_local (void)
{
    CHECK (hpo_keys_endpoint_local ("tcp://127.0.0.1:5555"));
    CHECK (hpo_keys_endpoint_local ("tcp://127.1.2.3:*"));
    CHECK (hpo_keys_endpoint_local ("tcp://[::1]:0"));
    CHECK (hpo_keys_endpoint_local ("tcp://localhost:5555"));
    CHECK (hpo_keys_endpoint_local ("ipc:///tmp/hpo.sock"));
    CHECK (hpo_keys_endpoint_local ("inproc://x"));
    CHECK (!hpo_keys_endpoint_local ("tcp://*:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://0.0.0.0:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://10.0.0.1:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://128.0.0.1:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://127.0.0.1.evil.example:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://eth0:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://[::]:5555"));
    CHECK (!hpo_keys_endpoint_local ("tcp://head:5555"));
}

static void
test_generate (void)
{
    char *error = NULL;
    CHECK (hpo_keys_generate (s_dir, "w1", 0, &error) == 0 && !error);
    char *pub = s_path ("w1.key"), *sec = s_path ("w1.key_secret");
    struct stat st;
    CHECK (stat (sec, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK (stat (pub, &st) == 0);
    //  Never overwritten without force.
    CHECK (hpo_keys_generate (s_dir, "w1", 0, &error) == -1);
    CHECK_CONTAINS (error, "not overwritten");
    free (error);
    error = NULL;
    hpo_keys_t a = {0}, b = {0};
    CHECK (hpo_keys_load_secret (&a, sec, &error) == 0);
    CHECK (hpo_keys_generate (s_dir, "w1", 1, &error) == 0);
    CHECK (hpo_keys_load_secret (&b, sec, &error) == 0);
    CHECK (memcmp (a.public_key, b.public_key, HPO_KEYS_BYTES) != 0);
    //  A public file holds no secret: said, not used as one. (zcert reads
    //  NAME.key_secret beside NAME.key when there is one: a link alone.)
    char *lone = s_path ("lone.key");
    CHECK (link (pub, lone) == 0);
    CHECK (hpo_keys_load_secret (&a, lone, &error) == -1);
    free (lone);
    CHECK_CONTAINS (error, "no secret key");
    free (error);
    error = NULL;
    CHECK (hpo_keys_load_server (&a, pub, &error) == 0 && a.has_server_key);
    CHECK (memcmp (a.server_key, b.public_key, HPO_KEYS_BYTES) == 0);
    CHECK (hpo_keys_load_server (&a, "/nonexistent.key", &error) == -1);
    CHECK_CONTAINS (error, "cannot read /nonexistent.key");
    free (error);
    error = NULL;
    CHECK (hpo_keys_generate (s_dir, "../x", 0, &error) == -1);
    free (error);
    free (pub);
    free (sec);
}

static void
test_user_parse (void)
{
    char name[65];
    CHECK (hpo_keys_user_parse ("worker:w1", name, sizeof name) ==
           HPO_KEYS_WORKER);
    CHECK_STR (name, "w1");
    CHECK (hpo_keys_user_parse ("client,admin:al:ice", name, sizeof name) ==
           (HPO_KEYS_CLIENT | HPO_KEYS_ADMIN));
    CHECK_STR (name, "al:ice");
    CHECK (hpo_keys_user_parse ("", name, sizeof name) == 0);
    CHECK (hpo_keys_user_parse ("workers:x", name, sizeof name) == 0);
}

//  A key pair made in DIR/ROLE/NAME.key{,_secret}.
static void
s_make (const char *role, const char *name, hpo_keys_t *keys)
{
    char *sub = s_path (role);
    mkdir (sub, 0700);
    char *error = NULL;
    CHECK (hpo_keys_generate (sub, name, 1, &error) == 0);
    char *sec = hpo_sprintf ("%s/%s.key_secret", sub, name);
    CHECK (hpo_keys_load_secret (keys, sec, &error) == 0);
    free (sec);
    free (sub);
}

static void
test_dir (void)
{
    hpo_keys_t w = {0}, c = {0}, both = {0};
    s_make ("worker", "w", &w);
    s_make ("client", "c", &c);
    s_make ("admin", "root", &both);
    //  The same key under client too: its roles gather.
    char *from = s_path ("admin/root.key"), *to = s_path ("client/root.key");
    CHECK (link (from, to) == 0);
    char *error = NULL;
    CHECK (hpo_keys_dir_new ("/nonexistent", &error) == NULL);
    free (error);
    hpo_keys_dir_t *dir = hpo_keys_dir_new (s_dir, &error);
    CHECK (dir);
    CHECK (hpo_keys_dir_scan (dir) == 1);
    CHECK (hpo_keys_dir_size (dir) == 3);
    char name[65];
    CHECK (hpo_keys_dir_lookup (dir, w.public_key, name, sizeof name) ==
           HPO_KEYS_WORKER);
    CHECK_STR (name, "w");
    CHECK (hpo_keys_dir_lookup (dir, both.public_key, name, sizeof name) ==
           (HPO_KEYS_CLIENT | HPO_KEYS_ADMIN));
    hpo_keys_zap_reply_t reply;
    hpo_keys_zap_decide (dir, "CURVE", c.public_key, HPO_KEYS_BYTES, &reply);
    CHECK_STR (reply.status, "200");
    CHECK_STR (reply.user_id, "client:c");
    hpo_keys_zap_decide (dir, "CURVE", both.public_key, HPO_KEYS_BYTES, &reply);
    CHECK_STR (reply.user_id, "client,admin:root");
    hpo_keys_zap_decide (dir, "NULL", NULL, 0, &reply);
    CHECK_STR (reply.status, "400");
    uint8_t stranger[HPO_KEYS_BYTES] = {1, 2, 3};
    hpo_keys_zap_decide (dir, "CURVE", stranger, HPO_KEYS_BYTES, &reply);
    CHECK_STR (reply.status, "400");
    CHECK_STR (reply.user_id, "");
    //  Nothing changed (and nothing changed lately): not read again. The
    //  directories' times are set an hour back, as if long untouched.
    const char *subs[] = {"worker", "client", "admin"};
    for (int k = 0; k < 3; k++) {
        char *sub = s_path (subs[k]);
        struct timespec old[2] = {{time (NULL) - 3600, 0},
                                  {time (NULL) - 3600, 0}};
        CHECK (utimensat (AT_FDCWD, sub, old, 0) == 0);
        free (sub);
    }
    CHECK (hpo_keys_dir_scan (dir) == 1); //  their times changed
    CHECK (hpo_keys_dir_scan (dir) == 0);
    CHECK (hpo_keys_dir_size (dir) == 3);
    //  A removed key is gone at the next look.
    char *wpath = s_path ("worker/w.key");
    CHECK (unlink (wpath) == 0);
    CHECK (hpo_keys_dir_scan (dir) == 1);
    CHECK (hpo_keys_dir_lookup (dir, w.public_key, name, sizeof name) == 0);
    CHECK (hpo_keys_dir_size (dir) == 2);
    hpo_keys_dir_destroy (&dir);
    CHECK (!dir);
    free (wpath);
    free (from);
    free (to);
}

//  Waits up to 3 s for a reply on a client, or for its watch to report
//  a failed handshake. Returns 1 (reply), 2 + what the watch said (a
//  failed handshake), 0 (nothing).
static int
s_outcome (void *client, void *watch, int has_keys, char *said, size_t size)
{
    int64_t deadline = hpo_clock_mono_ms () + 3000;
    while (hpo_clock_mono_ms () < deadline) {
        zmq_pollitem_t items[2] = {{client, 0, ZMQ_POLLIN, 0},
                                   {watch, 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 2, 100);
        if (items[0].revents & ZMQ_POLLIN) {
            char buf[64];
            zmq_recv (client, buf, sizeof buf, 0);
            return 1;
        }
        int what = 0;
        if ((items[1].revents & ZMQ_POLLIN) &&
            (what = hpo_sock_watch_read (watch, has_keys, said, size)))
            return 2 + what;
    }
    return 0;
}

//  Serves one message on the server if one comes within 100 ms: echoes
//  it with the User-Id it arrived with.
static void
s_serve (void *server, char *user_id, size_t size)
{
    zmq_pollitem_t item = {server, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, 100) <= 0)
        return;
    zmq_msg_t rid, data;
    zmq_msg_init (&rid);
    zmq_msg_init (&data);
    zmq_msg_recv (&rid, server, 0);
    zmq_msg_recv (&data, server, 0);
    const char *uid = zmq_msg_gets (&data, "User-Id");
    snprintf (user_id, size, "%s", uid ? uid : "");
    zmq_msg_send (&rid, server, ZMQ_SNDMORE);
    zmq_msg_send (&data, server, 0);
}

//  One client attempt: a DEALER with keys (or none) sends, the server
//  serves; returns what s_outcome saw.
static int
s_try (void *ctx, void *server, const char *ep, const hpo_keys_t *keys,
       char *user_id, char *said)
{
    char *error = NULL;
    void *watch = NULL;
    void *client =
        hpo_sock_open_keys (ctx, HPO_SOCK_CLIENT, ep, keys, &watch, &error);
    CHECK (client && !error);
    CHECK (watch);
    zmq_send (client, "hi", 2, 0);
    int outcome = 0;
    user_id[0] = said[0] = '\0';
    for (int k = 0; k < 30 && !outcome; k++) {
        s_serve (server, user_id, 256);
        zmq_pollitem_t items[2] = {{client, 0, ZMQ_POLLIN, 0},
                                   {watch, 0, ZMQ_POLLIN, 0}};
        zmq_poll (items, 2, 0);
        if (items[0].revents || items[1].revents)
            outcome = s_outcome (client, watch, keys != NULL, said, 256);
    }
    hpo_sock_close (&watch);
    hpo_sock_close (&client);
    return outcome;
}

static void
test_handshakes (void)
{
    hpo_keys_t server_keys = {0}, worker = {0}, stranger = {0};
    char *error = NULL;
    CHECK (hpo_keys_generate (s_dir, "server", 1, &error) == 0);
    char *sec = s_path ("server.key_secret"), *pub = s_path ("server.key");
    CHECK (hpo_keys_load_secret (&server_keys, sec, &error) == 0);
    s_make ("worker", "w2", &worker);
    CHECK (hpo_keys_generate (s_dir, "stranger", 1, &error) == 0);
    char *ssec = s_path ("stranger.key_secret");
    CHECK (hpo_keys_load_secret (&stranger, ssec, &error) == 0);
    CHECK (hpo_keys_load_server (&worker, pub, &error) == 0);
    CHECK (hpo_keys_load_server (&stranger, pub, &error) == 0);

    void *ctx = hpo_sock_ctx_new (&error);
    hpo_keys_zap_t *zap = hpo_keys_zap_new (ctx, s_dir, &error);
    CHECK (zap && !error);
    void *server = hpo_sock_open_keys (
        ctx, HPO_SOCK_SERVER, "tcp://127.0.0.1:0", &server_keys, NULL, &error);
    CHECK (server && !error);
    char ep[256], user_id[256], said[256];
    hpo_sock_endpoint (server, ep, sizeof ep);

    CHECK (s_try (ctx, server, ep, &worker, user_id, said) == 1);
    CHECK_STR (user_id, "worker:w2");
    CHECK (s_try (ctx, server, ep, &stranger, user_id, said) ==
           2 + HPO_SOCK_REFUSED);
    CHECK_CONTAINS (said, "refused this key");
    CHECK (s_try (ctx, server, ep, NULL, user_id, said) ==
           2 + HPO_SOCK_REFUSED);
    CHECK_CONTAINS (said, "CURVE keys");
    hpo_keys_t wrong = worker;
    memcpy (wrong.server_key, stranger.public_key, HPO_KEYS_BYTES);
    CHECK (s_try (ctx, server, ep, &wrong, user_id, said) ==
           2 + HPO_SOCK_BROKEN);
    CHECK_CONTAINS (said, "server-key");

    hpo_sock_close (&server);
    hpo_keys_zap_destroy (&zap);
    CHECK (!zap);
    hpo_sock_ctx_destroy (&ctx);
    free (sec);
    free (pub);
    free (ssec);
}

int
main (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/hpo-test-keys-XXXXXX");
    if (!mkdtemp (s_dir))
        return 1;
    test_local ();
    test_generate ();
    test_user_parse ();
    test_dir ();
    test_handshakes ();
    char *rm = hpo_sprintf ("rm -rf '%s'", s_dir);
    if (system (rm) != 0)
        fprintf (stderr, "cannot remove %s\n", s_dir);
    free (rm);
    TEST_DONE ();
}
