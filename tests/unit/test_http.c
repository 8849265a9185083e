/*  test_http: the dashboard's event ring (resume, reset, a reader cut
    when it falls behind, an event larger than a read, waiting without
    polling) and its token (file, constant-time compare, Bearer).        */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../common/mem.h"
#include "../../dash/ring.h"
#include "../../dash/token.h"
#include "testutil.h"

//  Reads what c has not seen, into a string (caller frees).
static char *
s_read_all (hpo_ring_t *ring, hpo_ring_cursor_t *c, size_t chunk)
{
    char *out = hpo_calloc (1, 1);
    size_t len = 0;
    char buf[4096];
    ssize_t n;
    while ((n = hpo_ring_read (ring, c, buf, chunk, 0)) > 0) {
        out = hpo_realloc (out, len + (size_t)n + 1);
        memcpy (out + len, buf, (size_t)n);
        len += (size_t)n;
        out[len] = 0;
    }
    return out;
}

static void
s_test_ring (void)
{
    hpo_ring_t *ring = hpo_ring_new (100, 4, 1 << 20);
    CHECK (hpo_ring_last (ring) == 100);
    hpo_ring_cursor_t fresh, resumed, future;
    hpo_ring_cursor (ring, &fresh, 0, 0);
    hpo_ring_cursor (ring, &resumed, 1, 100);
    CHECK (hpo_ring_append (ring, "trial", "{\"a\":1}", 7) == 101);
    CHECK (hpo_ring_append (ring, "value", "{}", 2) == 102);
    char *got = s_read_all (ring, &fresh, 5); //  small reads: events split
    CHECK_STR (got, "id: 101\nevent: trial\ndata: {\"a\":1}\n\n"
                    "id: 102\nevent: value\ndata: {}\n\n");
    free (got);
    //  Resuming after 101: only 102, not 101 again.
    hpo_ring_cursor (ring, &resumed, 1, 101);
    got = s_read_all (ring, &resumed, 4096);
    CHECK_STR (got, "id: 102\nevent: value\ndata: {}\n\n");
    free (got);
    //  Another run's id (above the last): reset, then what comes next.
    hpo_ring_cursor (ring, &future, 1, 5000);
    got = s_read_all (ring, &future, 4096);
    CHECK_STR (got, "id: 102\nevent: reset\ndata: {}\n\n");
    free (got);
    //  Four events kept: a cursor after 101 needs 102.. and gets them
    //  until 102 is dropped; one that needs 101 resets.
    hpo_ring_cursor_t slow, old;
    hpo_ring_cursor (ring, &slow, 1, 101);
    for (int k = 0; k < 3; k++)
        hpo_ring_append (ring, "x", "{}", 2);
    CHECK (hpo_ring_first (ring) == 102 && hpo_ring_last (ring) == 105);
    hpo_ring_cursor (ring, &old, 1, 100);
    got = s_read_all (ring, &old, 4096);
    CHECK_CONTAINS (got, "event: reset");
    CHECK (strstr (got, "id: 105\nevent: reset") == got);
    free (got);
    hpo_ring_append (ring, "x", "{}", 2);
    char buf[64];
    CHECK (hpo_ring_read (ring, &slow, buf, sizeof buf, 0) == -1);
    //  Nothing new: a read waits its timeout, then says 0.
    hpo_ring_cursor_t idle;
    hpo_ring_cursor (ring, &idle, 0, 0);
    int64_t t0 = hpo_clock_mono_ms ();
    CHECK (hpo_ring_read (ring, &idle, buf, sizeof buf, 50) == 0);
    CHECK (hpo_clock_mono_ms () - t0 >= 45);
    hpo_ring_close (ring);
    CHECK (hpo_ring_read (ring, &idle, buf, sizeof buf, 1000) == -1);
    hpo_ring_destroy (&ring);
    CHECK (ring == NULL);

    //  The byte bound drops old events too.
    ring = hpo_ring_new (0, 1000, 100);
    for (int k = 0; k < 10; k++)
        hpo_ring_append (ring, "x", "{\"pad\": \"0123456789\"}", 21);
    CHECK (hpo_ring_last (ring) - hpo_ring_first (ring) + 1 <= 2);
    hpo_ring_destroy (&ring);
}

typedef struct {
    hpo_ring_t *ring;
    hpo_ring_cursor_t cursor;
    ssize_t got;
    int64_t waited;
} s_waiter_t;

static void *
s_wait (void *arg)
{
    s_waiter_t *w = arg;
    char buf[256];
    int64_t t0 = hpo_clock_mono_ms ();
    w->got = hpo_ring_read (w->ring, &w->cursor, buf, sizeof buf, 5000);
    w->waited = hpo_clock_mono_ms () - t0;
    return NULL;
}

//  A reader blocked in the ring wakes as soon as an event is published.
static void
s_test_wake (void)
{
    s_waiter_t w = {.ring = hpo_ring_new (0, 16, 1 << 20)};
    hpo_ring_cursor (w.ring, &w.cursor, 0, 0);
    pthread_t th;
    pthread_create (&th, NULL, s_wait, &w);
    usleep (50 * 1000);
    hpo_ring_append (w.ring, "x", "{}", 2);
    hpo_ring_wake (w.ring);
    pthread_join (th, NULL);
    CHECK (w.got > 0);
    CHECK (w.waited < 2000);
    hpo_ring_destroy (&w.ring);
}

static void
s_test_token (const char *dir)
{
    CHECK (hpo_token_equal ("secret", "secret", 6));
    CHECK (!hpo_token_equal ("secret", "secreT", 6));
    CHECK (!hpo_token_equal ("secret", "secre", 5));
    CHECK (!hpo_token_equal ("secret", "secrets", 7));
    CHECK (!hpo_token_equal ("secret", "", 0));
    const char *tok;
    size_t len;
    CHECK (hpo_token_bearer ("Bearer abc ", &tok, &len) && len == 3 &&
           strncmp (tok, "abc", 3) == 0);
    CHECK (hpo_token_bearer ("bearer  abc", &tok, &len) && len == 3);
    CHECK (!hpo_token_bearer ("Basic abc", &tok, &len));
    CHECK (!hpo_token_bearer ("Bearerabc", &tok, &len));
    CHECK (!hpo_token_bearer (NULL, &tok, &len));
    char *plain = hpo_token_unescape ("a%2Fb%zz%4", 10);
    CHECK_STR (plain, "a/b%zz%4");
    free (plain);

    char *path = hpo_sprintf ("%s/token", dir);
    char *error = NULL;
    CHECK (hpo_token_read (path, &error) == NULL);
    CHECK_CONTAINS (error, "No such file");
    free (error);
    error = NULL;
    FILE *f = fopen (path, "w");
    fputs ("  \n", f);
    fclose (f);
    CHECK (hpo_token_read (path, &error) == NULL);
    CHECK_CONTAINS (error, "empty");
    free (error);
    error = NULL;
    f = fopen (path, "w");
    fputs ("  s3cret \nsecond line\n", f);
    fclose (f);
    chmod (path, 0600);
    char *token = hpo_token_read (path, &error);
    CHECK_STR (token, "s3cret");
    free (token);
    unlink (path);
    free (path);
}

int
main (void)
{
    char dir[] = "/tmp/hpo-test-http-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    s_test_ring ();
    s_test_wake ();
    s_test_token (dir);
    rmdir (dir);
    TEST_DONE ();
}
