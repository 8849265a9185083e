/*  test_outbox: the worker's unacknowledged messages, with no socket and
    no clock. A fake send function records what goes out and refuses when
    its "queue" is full; time is whatever number the test passes.        */
#include "testutil.h"

#include <stdint.h>

#include "common/mem.h"
#include "worker/outbox.h"

//  What the fake socket took, in order: each message's seq and its bytes
//  (the test packs "m<seq>" so bytes and seq can be checked together).
typedef struct {
    uint64_t seq[4096];
    char text[4096][16];
    size_t n;
    size_t room; //  messages it takes before refusing; SIZE_MAX: no limit
} s_wire_t;

static int
s_take (void *arg, const uint8_t *data, size_t size, uint64_t seq)
{
    s_wire_t *w = arg;
    if (w->room == 0 || w->n == 4096)
        return -1;
    if (w->room != SIZE_MAX)
        w->room--;
    w->seq[w->n] = seq;
    snprintf (w->text[w->n], sizeof w->text[w->n], "%.*s", (int)size,
              (const char *)data);
    w->n++;
    return 0;
}

static void
s_add (hpo_outbox_t *box, uint64_t seq, hpo_outbox_kind_t kind,
       uint64_t trial_id, int64_t now)
{
    char *text = hpo_sprintf ("m%llu", (unsigned long long)seq);
    uint8_t *data = (uint8_t *)text;
    hpo_outbox_add (box, seq, kind, trial_id, 1, &data, strlen (text), now);
    CHECK (data == NULL);
}

//  Whether the wire holds exactly these seqs from index from on, each
//  with its own bytes.
static int
s_went (const s_wire_t *w, size_t from, const uint64_t *seqs, size_t n)
{
    if (w->n - from != n)
        return 0;
    for (size_t k = 0; k < n; k++) {
        char text[16];
        snprintf (text, sizeof text, "m%llu", (unsigned long long)seqs[k]);
        if (w->seq[from + k] != seqs[k] || strcmp (w->text[from + k], text))
            return 0;
    }
    return 1;
}

//  A new outbox of max messages on w, whose queue takes room of them.
static hpo_outbox_t *
s_box (s_wire_t *w, size_t max, size_t room)
{
    memset (w, 0, sizeof *w);
    w->room = room;
    return hpo_outbox_new (max, s_take, w);
}

//  Reports of trial 7 with seqs first to last, added at now.
static void
s_fill (hpo_outbox_t *box, uint64_t first, uint64_t last, int64_t now)
{
    for (uint64_t seq = first; seq <= last; seq++)
        s_add (box, seq, HPO_OUTBOX_REPORT, 7, now);
}

//  Whether a new round started at now sends exactly these seqs.
static int
s_resends (hpo_outbox_t *box, s_wire_t *w, int64_t now, const uint64_t *seqs,
           size_t n)
{
    size_t before = w->n;
    hpo_outbox_resend (box, now);
    return s_went (w, before, seqs, n);
}

//  In seq order; when the send function refuses, the cursor stays on the
//  refused message and the next pump starts there, skipping nothing.
static void
test_order_and_cursor (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100, 2);
    s_fill (box, 1, 5, 0);
    CHECK (s_went (&w, 0, (uint64_t[]){1, 2}, 2));
    CHECK (hpo_outbox_backlog (box));
    hpo_outbox_pump (box, 1); //  still full: nothing moves
    CHECK (w.n == 2);
    w.room = 1;
    hpo_outbox_pump (box, 2);
    CHECK (s_went (&w, 0, (uint64_t[]){1, 2, 3}, 3));
    w.room = SIZE_MAX;
    s_add (box, 9, HPO_OUTBOX_FINISH, 7, 3); //  after 4 and 5, not before
    CHECK (s_went (&w, 0, (uint64_t[]){1, 2, 3, 4, 5, 9}, 6));
    CHECK (!hpo_outbox_backlog (box));
    CHECK (hpo_outbox_live (box) == 6);
    hpo_outbox_destroy (&box);
    hpo_outbox_destroy (&box);
    CHECK (box == NULL);
}

//  After a reconnect everything unacknowledged goes again, oldest first,
//  the same bytes under the same seq; acknowledged ones do not.
static void
test_resend (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100, SIZE_MAX);
    s_fill (box, 10, 14, 0);
    CHECK (hpo_outbox_ack (box, 11) == 0);
    CHECK (hpo_outbox_ack (box, 13) == 0);
    CHECK (s_resends (box, &w, 5, (uint64_t[]){10, 12, 14}, 3));

    //  A resend that the queue cuts short goes on from where it stopped.
    size_t before = w.n;
    w.room = 1;
    CHECK (s_resends (box, &w, 6, (uint64_t[]){10}, 1));
    w.room = SIZE_MAX;
    hpo_outbox_pump (box, 7);
    CHECK (s_went (&w, before, (uint64_t[]){10, 12, 14}, 3));
    hpo_outbox_destroy (&box);
}

//  A timed resend waits until the round is complete and the oldest
//  message has waited wait_ms since it was last sent.
static void
test_resend_due (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100, SIZE_MAX);
    s_add (box, 1, HPO_OUTBOX_REPORT, 7, 1000);
    s_add (box, 2, HPO_OUTBOX_REPORT, 7, 1050);
    size_t before = w.n;
    hpo_outbox_resend_due (box, 1099, 100);
    CHECK (w.n == before);
    hpo_outbox_resend_due (box, 1100, 100);
    CHECK (s_went (&w, before, (uint64_t[]){1, 2}, 2));
    //  Seq 1 was just resent: not again before 1200.
    before = w.n;
    hpo_outbox_resend_due (box, 1150, 100);
    CHECK (w.n == before);
    //  With seq 1 acknowledged, the oldest is 2, sent at 1100 too.
    CHECK (hpo_outbox_ack (box, 1) == 0);
    hpo_outbox_resend_due (box, 1200, 100);
    CHECK (s_went (&w, before, (uint64_t[]){2}, 1));
    //  An incomplete round is not restarted, however late.
    before = w.n;
    w.room = 0;
    s_add (box, 3, HPO_OUTBOX_REPORT, 7, 1250);
    CHECK (hpo_outbox_backlog (box));
    w.room = SIZE_MAX;
    hpo_outbox_resend_due (box, 5000, 100);
    CHECK (w.n == before);
    //  Nothing unacknowledged: nothing to resend.
    hpo_outbox_pump (box, 5000);
    CHECK (hpo_outbox_ack (box, 2) == 0 && hpo_outbox_ack (box, 3) == 0);
    before = w.n;
    hpo_outbox_resend_due (box, 9000, 100);
    CHECK (w.n == before);
    hpo_outbox_destroy (&box);
}

//  Acks in any order; a second Ack, or one for a seq never kept, is -1.
static void
test_ack_out_of_order (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100, SIZE_MAX);
    for (uint64_t seq = 1; seq <= 6; seq++)
        s_add (box, seq * 2, HPO_OUTBOX_REPORT, 7, 0); //  2, 4, ... 12
    CHECK (hpo_outbox_ack (box, 5) == -1);             //  lands on 6: not it
    CHECK (hpo_outbox_live (box) == 6);
    CHECK (hpo_outbox_ack (box, 8) == 0);
    CHECK (hpo_outbox_ack (box, 2) == 0);
    CHECK (hpo_outbox_ack (box, 12) == 0);
    CHECK (hpo_outbox_ack (box, 8) == -1);
    CHECK (hpo_outbox_ack (box, 7) == -1);
    CHECK (hpo_outbox_ack (box, 99) == -1);
    CHECK (hpo_outbox_live (box) == 3);
    CHECK (s_resends (box, &w, 1, (uint64_t[]){4, 6, 10}, 3));
    hpo_outbox_destroy (&box);
}

//  Full at max; paused from there until three quarters of max or fewer.
static void
test_backpressure (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 8, SIZE_MAX);
    s_fill (box, 1, 7, 0);
    CHECK (!hpo_outbox_full (box));
    CHECK (!hpo_outbox_paused (box));
    s_add (box, 8, HPO_OUTBOX_REPORT, 7, 0);
    CHECK (hpo_outbox_full (box));
    CHECK (hpo_outbox_paused (box));
    //  7 and 6 left: not full, but still paused until 6 (= 8 - 8 / 4).
    CHECK (hpo_outbox_ack (box, 1) == 0);
    CHECK (!hpo_outbox_full (box));
    CHECK (hpo_outbox_paused (box));
    CHECK (hpo_outbox_ack (box, 2) == 0);
    CHECK (!hpo_outbox_paused (box));
    //  Then not paused again until full again.
    s_add (box, 9, HPO_OUTBOX_REPORT, 7, 0);
    CHECK (!hpo_outbox_paused (box));
    s_add (box, 10, HPO_OUTBOX_REPORT, 7, 0);
    CHECK (hpo_outbox_paused (box));
    hpo_outbox_destroy (&box);
}

//  Dropping an attempt forgets its Reports and Finish, not another
//  attempt's nor a Goodbye; the rest keeps its order.
static void
test_drop_attempt (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100, SIZE_MAX);
    s_add (box, 1, HPO_OUTBOX_REPORT, 7, 0);
    s_add (box, 2, HPO_OUTBOX_REPORT, 8, 0);
    s_add (box, 3, HPO_OUTBOX_FINISH, 7, 0);
    s_add (box, 4, HPO_OUTBOX_FINISH, 8, 0);
    uint8_t *bye = (uint8_t *)hpo_strdup ("m5");
    hpo_outbox_add (box, 5, HPO_OUTBOX_GOODBYE, 0, 0, &bye, 2, 0);
    hpo_outbox_drop_attempt (box, 7, 2); //  another attempt of 7: nothing
    CHECK (hpo_outbox_live (box) == 5);
    hpo_outbox_drop_attempt (box, 7, 1);
    CHECK (hpo_outbox_live (box) == 3);
    hpo_outbox_drop_attempt (box, 0, 0); //  a Goodbye belongs to none
    CHECK (hpo_outbox_live (box) == 3);
    CHECK (hpo_outbox_ack (box, 3) == -1);
    CHECK (s_resends (box, &w, 1, (uint64_t[]){2, 4, 5}, 3));
    hpo_outbox_attempt_t fin[4];
    CHECK (hpo_outbox_finishes (box, 0, fin, 4) == 1);
    CHECK (fin[0].trial_id == 8 && fin[0].attempt == 1);
    hpo_outbox_destroy (&box);
}

//  The Finishes a Hello (all) and a heartbeat (never sent) name.
static void
test_finishes (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100, 1);
    s_add (box, 1, HPO_OUTBOX_FINISH, 7, 0); //  sent
    s_add (box, 2, HPO_OUTBOX_REPORT, 8, 0); //  waits
    s_add (box, 3, HPO_OUTBOX_FINISH, 8, 0); //  waits
    hpo_outbox_attempt_t fin[4];
    CHECK (hpo_outbox_finishes (box, 0, NULL, 0) == 2);
    CHECK (hpo_outbox_finishes (box, 0, fin, 1) == 2);
    CHECK (fin[0].trial_id == 7);
    CHECK (hpo_outbox_finishes (box, 1, fin, 4) == 1);
    CHECK (fin[0].trial_id == 8);
    //  Once sent it is no longer "never sent", even when a new round
    //  has not reached it yet.
    w.room = SIZE_MAX;
    hpo_outbox_pump (box, 1);
    w.room = 0;
    hpo_outbox_resend (box, 2);
    CHECK (hpo_outbox_backlog (box));
    CHECK (hpo_outbox_finishes (box, 1, fin, 4) == 0);
    CHECK (hpo_outbox_finishes (box, 0, fin, 4) == 2);
    hpo_outbox_destroy (&box);
}

//  Compaction reclaims acknowledged entries without changing the order,
//  the cursor (what the round has yet to send) or what an Ack finds.
static void
test_compaction (void)
{
    s_wire_t w;
    hpo_outbox_t *box = s_box (&w, 100000, SIZE_MAX);
    s_fill (box, 1, 300, 0);
    //  Acknowledge all but every tenth: 270 holes of 300.
    for (uint64_t s = 1; s <= 300; s++)
        if (s % 10 != 0)
            CHECK (hpo_outbox_ack (box, s) == 0);
    //  A round cut short in the middle, then compaction.
    w.n = 0;
    w.room = 12;
    hpo_outbox_resend (box, 1);
    CHECK (w.n == 12 && w.seq[11] == 120);
    hpo_outbox_compact (box);
    w.room = SIZE_MAX;
    hpo_outbox_pump (box, 2);
    uint64_t rest[18];
    for (size_t k = 0; k < 18; k++)
        rest[k] = 130 + 10 * k;
    CHECK (s_went (&w, 12, rest, 18));
    //  Acks still find what is left, and new messages come after it.
    CHECK (hpo_outbox_ack (box, 150) == 0);
    CHECK (hpo_outbox_ack (box, 149) == -1);
    s_add (box, 301, HPO_OUTBOX_REPORT, 7, 3);
    w.n = 0;
    hpo_outbox_resend (box, 4);
    CHECK (w.n == 30);
    CHECK (w.seq[0] == 10 && w.seq[13] == 140 && w.seq[14] == 160);
    CHECK (w.seq[29] == 301);
    CHECK (hpo_outbox_live (box) == 30);
    hpo_outbox_destroy (&box);
}

int
main (void)
{
    test_order_and_cursor ();
    test_resend ();
    test_resend_due ();
    test_ack_out_of_order ();
    test_backpressure ();
    test_drop_attempt ();
    test_finishes ();
    test_compaction ();
    TEST_DONE ();
}
