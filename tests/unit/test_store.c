/*  test_store: the store's round trip, idempotent values, migrations, a
    failed write failing the store, and the query plans of the hot
    statements.                                                          */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/mem.h"
#include "../../coordinator/store.h"
#include "testutil.h"

static int
s_count_trials (void *ctx, const hpo_store_trial_row_t *row)
{
    int *count = ctx;
    (*count)++;
    if (row->number == 0) {
        CHECK_STR (row->state, "COMPLETE");
        CHECK (row->attempt == 2);
        CHECK (row->failures == 1);
        CHECK (row->has_value && row->value == 0.25);
        CHECK_STR (row->worker, "w1");
        CHECK_STR (row->params, "{\"x\": 1}");
    } else {
        CHECK_STR (row->state, "WAITING");
        CHECK (!row->has_value);
        CHECK (row->worker == NULL);
    }
    return 0;
}

static int
s_study (void *ctx, const hpo_store_study_row_t *row)
{
    int *count = ctx;
    (*count)++;
    CHECK_STR (row->name, "s1");
    CHECK_STR (row->spec, "name: s1\n");
    CHECK_STR (row->state, "FINISHED");
    CHECK (row->ended == 20.0);
    return 0;
}

typedef struct {
    int n;
    int64_t steps[8];
    double values[8];
} s_values_t;

static int
s_value (void *ctx, int64_t step, const char *metric, double value)
{
    s_values_t *v = ctx;
    if (v->n < 8) {
        v->steps[v->n] = step;
        v->values[v->n] = value;
    }
    v->n++;
    return 0;
}

static int
s_attempt (void *ctx, const hpo_store_attempt_row_t *row)
{
    int *count = ctx;
    (*count)++;
    if (row->attempt == 1) {
        CHECK_STR (row->outcome, "LOST");
        CHECK_STR (row->reason, "lease expired");
    } else {
        CHECK_STR (row->outcome, "COMPLETE");
        CHECK_STR (row->log_tail, "tail");
    }
    return 0;
}

static int
s_lost_row (void *ctx, const hpo_store_trial_row_t *row)
{
    uint32_t *lost = ctx;
    lost[row->number] = row->lost;
    return 0;
}

//  The schema version written in the file at path (the store must be
//  closed: it holds the file's lock), or -1.
static int
s_user_version (const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int version = -1;
    if (sqlite3_open (path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL) ==
            SQLITE_OK) {
        if (sqlite3_step (st) == SQLITE_ROW)
            version = sqlite3_column_int (st, 0);
        sqlite3_finalize (st);
    }
    sqlite3_close (db);
    return version;
}

//  Migration 2 adds trial.lost to a database of schema 1, keeping its
//  rows; the column round-trips.
static void
s_test_migrate_lost (void)
{
    char dir[] = "/tmp/hpo-test-store2-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char *path = hpo_sprintf ("%s/hpo.db", dir);
    sqlite3 *db;
    CHECK (sqlite3_open (path, &db) == SQLITE_OK);
    //  Schema 1 as it shipped, with one trial.
    CHECK (
        sqlite3_exec (
            db,
            "CREATE TABLE study (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
            "UNIQUE, spec TEXT NOT NULL, state TEXT NOT NULL, created REAL "
            "NOT NULL, ended REAL NOT NULL DEFAULT 0);"
            "CREATE TABLE trial (id INTEGER PRIMARY KEY, study_id INTEGER "
            "NOT NULL REFERENCES study(id), number INTEGER NOT NULL, state "
            "TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, failures "
            "INTEGER NOT NULL DEFAULT 0, params TEXT NOT NULL, value REAL, "
            "worker TEXT, started REAL NOT NULL DEFAULT 0, ended REAL NOT "
            "NULL DEFAULT 0, reason TEXT, UNIQUE (study_id, number));"
            "CREATE TABLE attempt (trial_id INTEGER NOT NULL, attempt "
            "INTEGER NOT NULL, worker TEXT NOT NULL, started REAL NOT NULL, "
            "ended REAL NOT NULL DEFAULT 0, outcome TEXT, reason TEXT, "
            "log_tail TEXT, PRIMARY KEY (trial_id, attempt)) WITHOUT ROWID;"
            "CREATE TABLE value (trial_id INTEGER NOT NULL, step INTEGER NOT "
            "NULL, metric TEXT NOT NULL, attempt INTEGER NOT NULL, value "
            "REAL NOT NULL, PRIMARY KEY (trial_id, step, metric)) WITHOUT "
            "ROWID;"
            "INSERT INTO study VALUES (1, 's', 'x', 'RUNNING', 1, 0);"
            "INSERT INTO trial (id, study_id, number, state, params) VALUES "
            "(1, 1, 0, 'WAITING', '{}');"
            "PRAGMA user_version = 1;",
            NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close (db);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    uint32_t lost[2] = {99, 99};
    CHECK (hpo_store_trials (store, s_lost_row, lost) == 0);
    CHECK (lost[0] == 0);
    hpo_store_trial_row_t row = {.id = 1, .state = "WAITING", .lost = 2};
    CHECK (hpo_store_trial_update (store, &row) == 0);
    hpo_store_trial_row_t row2 = {.study_id = 1,
                                  .number = 1,
                                  .state = "WAITING",
                                  .params = "{}",
                                  .lost = 1};
    uint64_t id;
    CHECK (hpo_store_trial_insert (store, &row2, &id) == 0);
    hpo_store_destroy (&store);
    CHECK (s_user_version (path) == 3);
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (hpo_store_trials (store, s_lost_row, lost) == 0);
    CHECK (lost[0] == 2 && lost[1] == 1);
    hpo_store_destroy (&store);
    //  A database whose directory does not exist is named as such.
    char *missing = hpo_sprintf ("%s/no/such/dir/hpo.db", dir);
    CHECK (hpo_store_open (missing, HPO_SYNC_OFF, &error) == NULL);
    CHECK_CONTAINS (error, "does not exist");
    free (error);
    free (missing);
    char *cmd = hpo_sprintf ("rm -rf %s", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
    free (path);
}

//  The hot statements use the primary keys, never a table scan. A plan
//  that cannot be had fails the check: it proves nothing.
static void
s_test_plans (hpo_store_t *store)
{
    static const struct {
        const char *which;
        const char *search; //  the plan's search, or NULL: it reads no table
    } hot[] = {
        {"trial_update", "SEARCH trial USING INTEGER PRIMARY KEY"},
        {"value_put", NULL},
        {"values", "SEARCH value USING PRIMARY KEY"},
        {"attempt_end", NULL},
        {"attempts", "SEARCH attempt USING PRIMARY KEY"},
    };
    for (size_t k = 0; k < sizeof hot / sizeof *hot; k++) {
        char *plan = hpo_store_explain (store, hot[k].which);
        CHECK (plan != NULL);
        if (!plan)
            continue;
        if (hot[k].search)
            CHECK_CONTAINS (plan, hot[k].search);
        if (strstr (plan, "SCAN") && !strstr (plan, "USING")) {
            fprintf (stderr, "%s scans: %s\n", hot[k].which, plan);
            CHECK (!"query plan scans a table");
        }
        free (plan);
    }
    CHECK (hpo_store_explain (store, "no_such_statement") == NULL);
}

static int
s_study_names (void *ctx, const hpo_store_study_row_t *row)
{
    char *names = ctx;
    strcat (names, row->name);
    strcat (names, " ");
    return 0;
}

//  The names of the studies the store reads, in id order, each followed
//  by a space (the caller frees).
static char *
s_names (hpo_store_t *store)
{
    char *names = hpo_calloc (1, 256);
    CHECK (hpo_store_studies (store, s_study_names, names) == 0);
    return names;
}

//  The same, on disk at path.
static char *
s_names_on_disk (const char *path)
{
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    char *names = store ? s_names (store) : hpo_strdup ("");
    hpo_store_destroy (&store);
    free (error);
    return names;
}

//  Inserts a study named name in the current turn; returns the store's rc.
static int
s_insert (hpo_store_t *store, const char *name)
{
    uint64_t id;
    return hpo_store_study_insert (store, name, "x", 1.0, &id);
}

//  A write that fails in a turn fails the store: the rest of the turn and
//  the commit are refused, nothing of the turn reaches the disk, and the
//  store stays failed (the caller's memory is ahead of the disk) until
//  it is opened again.
static void
s_test_poison (const char *dir)
{
    char *path = hpo_sprintf ("%s/poison.db", dir);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    hpo_store_begin (store);
    CHECK (s_insert (store, "a") == 0);
    CHECK (hpo_store_commit (store) == 0);
    CHECK (hpo_store_commits (store) == 1);
    //  A turn that writes nothing commits nothing.
    hpo_store_begin (store);
    CHECK (hpo_store_commit (store) == 0);
    CHECK (hpo_store_commits (store) == 1);
    //  A real failure: names are unique.
    hpo_store_begin (store);
    CHECK (s_insert (store, "b") == 0);
    CHECK (!hpo_store_failed (store));
    CHECK (s_insert (store, "a") == -1);
    CHECK (hpo_store_failed (store));
    CHECK (s_insert (store, "c") == -1);
    hpo_store_trial_row_t row = {.id = 1, .state = "WAITING"};
    CHECK (hpo_store_trial_update (store, &row) == -1);
    CHECK (hpo_store_commit (store) == -1);
    CHECK (hpo_store_commits (store) == 1);
    char *names = s_names (store);
    CHECK_STR (names, "a ");
    free (names);
    //  The next turn is refused too: the store stays failed.
    hpo_store_begin (store);
    CHECK (s_insert (store, "d") == -1);
    CHECK (hpo_store_commit (store) == -1);
    CHECK (hpo_store_failed (store));
    hpo_store_destroy (&store);
    names = s_names_on_disk (path);
    CHECK_STR (names, "a ");
    free (names);

    //  The test hook: the third write of the turn fails, as the disk
    //  would; the two before it are rolled back.
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL && !hpo_store_failed (store));
    hpo_store_fail_after (store, 2);
    hpo_store_begin (store);
    CHECK (s_insert (store, "e") == 0);
    CHECK (s_insert (store, "f") == 0);
    CHECK (!hpo_store_failed (store));
    CHECK (s_insert (store, "g") == -1);
    CHECK (hpo_store_failed (store));
    CHECK (hpo_store_commit (store) == -1);
    hpo_store_destroy (&store);
    names = s_names_on_disk (path);
    CHECK_STR (names, "a ");
    free (names);

    //  The commit itself fails: nothing of the turn stays.
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    hpo_store_fail_after (store, 1);
    hpo_store_begin (store);
    CHECK (s_insert (store, "h") == 0);
    CHECK (hpo_store_commit (store) == -1);
    CHECK (hpo_store_failed (store));
    CHECK (hpo_store_commits (store) == 0);
    //  Rolled back at once, not left open until the store is closed.
    names = s_names (store);
    CHECK_STR (names, "a ");
    free (names);
    hpo_store_destroy (&store);
    names = s_names_on_disk (path);
    CHECK_STR (names, "a ");
    free (names);

    //  Outside a turn a write is its own transaction: a failure is only
    //  returned. A disarmed hook fires never.
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (s_insert (store, "a") == -1);
    CHECK (!hpo_store_failed (store));
    hpo_store_fail_after (store, 0);
    hpo_store_fail_after (store, -1);
    hpo_store_begin (store);
    CHECK (s_insert (store, "i") == 0);
    CHECK (hpo_store_commit (store) == 0);
    hpo_store_destroy (&store);
    names = s_names_on_disk (path);
    CHECK_STR (names, "a i ");
    free (names);
    free (path);
}

//  The study row "a" as read back.
typedef struct {
    int seen;
    char state[32];
    char reason[128];
    uint64_t budget, fail_base;
} s_study_a_t;

static int
s_study_a (void *ctx, const hpo_store_study_row_t *row)
{
    s_study_a_t *a = ctx;
    if (strcmp (row->name, "a") != 0)
        return 0;
    a->seen++;
    snprintf (a->state, sizeof a->state, "%s", row->state);
    snprintf (a->reason, sizeof a->reason, "%s",
              row->reason ? row->reason : "(null)");
    a->budget = row->budget;
    a->fail_base = row->fail_base;
    return 0;
}

static int
s_rows (const char *path, const char *table)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;
    char *sql = hpo_sprintf ("SELECT count(*) FROM %s", table);
    if (sqlite3_open (path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step (st) == SQLITE_ROW)
            n = sqlite3_column_int (st, 0);
        sqlite3_finalize (st);
    }
    sqlite3_close (db);
    free (sql);
    return n;
}

//  A study's state, reason, budget and fail base survive a reopen;
//  delete removes the study with its trials, their attempts and values,
//  and nothing of another study's.
static void
s_test_study_update_delete (const char *dir)
{
    char *path = hpo_sprintf ("%s/delete.db", dir);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    uint64_t a, b, ta, tb, id;
    CHECK (hpo_store_study_insert (store, "a", "x", 1.0, &a) == 0);
    CHECK (hpo_store_study_insert (store, "b", "x", 1.0, &b) == 0);
    hpo_store_trial_row_t row = {
        .study_id = a, .state = "FAILED", .params = "{}"};
    CHECK (hpo_store_trial_insert (store, &row, &ta) == 0);
    row.number = 1;
    CHECK (hpo_store_trial_insert (store, &row, &id) == 0);
    row.study_id = b;
    row.number = 0;
    CHECK (hpo_store_trial_insert (store, &row, &tb) == 0);
    hpo_store_attempt_row_t att = {
        .attempt = 1, .worker = "w", .outcome = "FAILED"};
    CHECK (hpo_store_attempt_end (store, ta, &att) == 0);
    CHECK (hpo_store_attempt_end (store, tb, &att) == 0);
    CHECK (hpo_store_value_put (store, ta, 1, 0, "loss", 1.0) == 0);
    CHECK (hpo_store_value_put (store, tb, 1, 0, "loss", 1.0) == 0);
    hpo_store_study_row_t up = {.id = a,
                                .state = "FAILED",
                                .ended = 5.0,
                                .reason = "all of the first 5 trials failed",
                                .budget = 150,
                                .fail_base = 4};
    CHECK (hpo_store_study_update (store, &up) == 0);
    hpo_store_destroy (&store);
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    s_study_a_t got = {0};
    CHECK (hpo_store_studies (store, s_study_a, &got) == 0);
    CHECK (got.seen == 1);
    CHECK_STR (got.state, "FAILED");
    CHECK_STR (got.reason, "all of the first 5 trials failed");
    CHECK (got.budget == 150 && got.fail_base == 4);
    //  Inside a turn that is rolled back, nothing is deleted.
    hpo_store_begin (store);
    CHECK (hpo_store_study_delete (store, a) == 0);
    CHECK (hpo_store_rollback (store) == 0);
    //  Outside a turn: its own transaction.
    CHECK (hpo_store_study_delete (store, a) == 0);
    hpo_store_destroy (&store);
    CHECK (s_rows (path, "study") == 1);
    CHECK (s_rows (path, "trial") == 1);
    CHECK (s_rows (path, "attempt") == 1);
    CHECK (s_rows (path, "value") == 1);
    store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    got.seen = 0;
    CHECK (hpo_store_studies (store, s_study_a, &got) == 0);
    CHECK (got.seen == 0);
    //  The name can be taken again.
    CHECK (hpo_store_study_insert (store, "a", "x", 2.0, &a) == 0);
    hpo_store_destroy (&store);
    free (path);
}

static int
s_count_studies (void *ctx, const hpo_store_study_row_t *row)
{
    (*(int *)ctx)++;
    return 0;
}

//  An online backup (issue #13): copied a page at a time while the store
//  keeps writing, the copy holds what was written before its last step,
//  is never left half at its path, opens as a store, and never replaces a
//  file. A store held by its coordinator cannot be copied from outside.
static void
s_test_backup (const char *dir)
{
    char *path = hpo_sprintf ("%s/backup-src.db", dir);
    char *copy = hpo_sprintf ("%s/backup-copy.db", dir);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    uint64_t id;
    char name[32];
    hpo_store_begin (store);
    for (int k = 0; k < 200; k++) {
        snprintf (name, sizeof name, "before-%d", k);
        CHECK (hpo_store_study_insert (store, name, "x", 1.0, &id) == 0);
    }
    CHECK (hpo_store_commit (store) == 0);
    hpo_store_backup_t *b = hpo_store_backup_new (store, copy, &error);
    CHECK (b != NULL);
    CHECK (hpo_store_backup_step (b, 1, &error) == 0);
    char *part = hpo_sprintf ("%s.part", copy);
    CHECK (access (copy, F_OK) != 0 && access (part, F_OK) == 0);
    hpo_store_begin (store);
    for (int k = 0; k < 50; k++) {
        snprintf (name, sizeof name, "during-%d", k);
        CHECK (hpo_store_study_insert (store, name, "x", 1.0, &id) == 0);
    }
    CHECK (hpo_store_commit (store) == 0);
    int rc, steps = 0;
    while ((rc = hpo_store_backup_step (b, 1, &error)) == 0 && steps < 10000)
        steps++;
    CHECK (rc == 1);
    hpo_store_backup_destroy (&b);
    CHECK (access (copy, F_OK) == 0 && access (part, F_OK) != 0);
    //  The source is held: a copy from outside is refused, saying how.
    char *other = hpo_sprintf ("%s/backup-other.db", dir);
    CHECK (hpo_store_backup_file (path, other, &error) == -1);
    CHECK_CONTAINS (error, "hpo admin backup");
    free (error);
    error = NULL;
    CHECK (hpo_store_backup_new (store, copy, &error) == NULL);
    CHECK_CONTAINS (error, "exists");
    free (error);
    error = NULL;
    hpo_store_destroy (&store);
    hpo_store_t *opened = hpo_store_open (copy, HPO_SYNC_OFF, &error);
    CHECK (opened != NULL);
    int n = 0;
    CHECK (hpo_store_studies (opened, s_count_studies, &n) == 0);
    CHECK (n == 250);
    hpo_store_destroy (&opened);
    //  Once its coordinator is gone, a copy is made from outside.
    CHECK (hpo_store_backup_file (path, other, &error) == 0);
    CHECK (access (other, F_OK) == 0);
    free (other);
    free (part);
    free (copy);
    free (path);
}

//  ---- the tap (hpo_store_set_tap): a log of what it was told ----------
typedef struct {
    char log[1024];
} s_tap_log_t;

static void
s_tap_add (void *ctx, const char *what)
{
    s_tap_log_t *t = ctx;
    size_t len = strlen (t->log);
    snprintf (t->log + len, sizeof t->log - len, "%s ", what);
}

static void
s_tap_study_insert (void *ctx, uint64_t id, const char *name,
                    const char *spec, double created)
{
    char line[64];
    snprintf (line, sizeof line, "study+%s", name);
    s_tap_add (ctx, line);
}

static void
s_tap_study_delete (void *ctx, uint64_t id)
{
    s_tap_add (ctx, "study-");
}

static void
s_tap_trial_insert (void *ctx, const hpo_store_trial_row_t *row)
{
    char line[64];
    snprintf (line, sizeof line, "trial+%llu", (unsigned long long)row->id);
    s_tap_add (ctx, line);
}

static void
s_tap_trial_update (void *ctx, const hpo_store_trial_row_t *row)
{
    s_tap_add (ctx, row->state);
}

static void
s_tap_attempt (void *ctx, uint64_t trial_id, const hpo_store_attempt_row_t *row)
{
    s_tap_add (ctx, row->outcome);
}

static void
s_tap_value (void *ctx, uint64_t trial_id, uint32_t attempt, int64_t step,
             const char *metric, double value)
{
    char line[64];
    snprintf (line, sizeof line, "v%u:%lld=%g", attempt, (long long)step,
              value);
    s_tap_add (ctx, line);
}

static void
s_tap_commit (void *ctx)
{
    s_tap_add (ctx, "C");
}

static void
s_tap_rollback (void *ctx)
{
    s_tap_add (ctx, "R");
}

static int
s_any_attempt (void *ctx, uint64_t trial_id, const hpo_store_attempt_row_t *row)
{
    s_tap_add (ctx, row->outcome);
    return 0;
}

static int
s_any_value (void *ctx, uint64_t trial_id, uint32_t attempt, int64_t step,
             const char *metric, double value)
{
    s_tap_value (ctx, trial_id, attempt, step, metric, value);
    return 0;
}

//  The tap hears each write that changed something, then commit or
//  rollback; a write outside a turn is committed at once. The bulk
//  readers see every attempt and value.
static void
s_test_tap (const char *dir)
{
    char *path = hpo_sprintf ("%s/tap.db", dir);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_OFF, &error);
    CHECK (store != NULL);
    static const hpo_store_tap_t tap = {
        .study_insert = s_tap_study_insert,
        .study_delete = s_tap_study_delete,
        .trial_insert = s_tap_trial_insert,
        .trial_update = s_tap_trial_update,
        .attempt_end = s_tap_attempt,
        .value_put = s_tap_value,
        .commit = s_tap_commit,
        .rollback = s_tap_rollback,
    };
    s_tap_log_t log = {{0}};
    hpo_store_set_tap (store, &tap, &log);
    uint64_t sid, tid, ghost;
    CHECK (hpo_store_study_insert (store, "a", "x", 1.0, &sid) == 0);
    hpo_store_begin (store);
    hpo_store_trial_row_t row = {
        .study_id = sid, .state = "RUNNING", .params = "{}"};
    CHECK (hpo_store_trial_insert (store, &row, &tid) == 0);
    CHECK (hpo_store_value_put (store, tid, 1, 0, "loss", 0.5) == 0);
    CHECK (hpo_store_value_put (store, tid, 1, 0, "loss", 0.5) == 0);
    hpo_store_attempt_row_t a = {.attempt = 1,
                                 .worker = "w",
                                 .started = 1.0,
                                 .ended = 2.0,
                                 .outcome = "LOST"};
    CHECK (hpo_store_attempt_end (store, tid, &a) == 0);
    CHECK (hpo_store_attempt_end (store, tid, &a) == 0);
    row.id = tid;
    row.state = "WAITING";
    CHECK (hpo_store_trial_update (store, &row) == 0);
    CHECK (hpo_store_commit (store) == 0);
    hpo_store_begin (store);
    CHECK (hpo_store_study_insert (store, "b", "x", 1.0, &ghost) == 0);
    CHECK (hpo_store_rollback (store) == 0);
    char *want = hpo_sprintf ("study+a C trial+%llu v1:0=0.5 LOST WAITING C "
                              "study+b R ",
                              (unsigned long long)tid);
    CHECK_STR (log.log, want);
    free (want);

    s_tap_log_t bulk = {{0}};
    CHECK (hpo_store_all_attempts (store, s_any_attempt, &bulk) == 0);
    CHECK (hpo_store_all_values (store, s_any_value, &bulk) == 0);
    CHECK_STR (bulk.log, "LOST v1:0=0.5 ");

    //  A delete outside a turn is reported once, then committed; a failed
    //  turn is rolled back.
    log.log[0] = 0;
    CHECK (hpo_store_study_delete (store, sid) == 0);
    hpo_store_begin (store);
    hpo_store_fail_after (store, 0);
    CHECK (hpo_store_study_insert (store, "c", "x", 1.0, &ghost) == -1);
    CHECK (hpo_store_commit (store) == -1);
    CHECK_STR (log.log, "study- C R ");
    hpo_store_destroy (&store);
    free (path);
}

int
main (void)
{
    s_test_migrate_lost ();
    char dir[] = "/tmp/hpo-test-store-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    s_test_study_update_delete (dir);
    s_test_poison (dir);
    s_test_backup (dir);
    s_test_tap (dir);
    char *path = hpo_sprintf ("%s/hpo.db", dir);
    char *error = NULL;
    hpo_store_t *store = hpo_store_open (path, HPO_SYNC_FULL, &error);
    CHECK (store != NULL);
    if (!store) {
        fprintf (stderr, "%s\n", error);
        TEST_DONE ();
    }

    //  A second coordinator on the same database is refused.
    hpo_store_t *second = hpo_store_open (path, HPO_SYNC_FULL, &error);
    CHECK (second == NULL);
    CHECK_CONTAINS (error, "another hpo-coordinator");
    free (error);
    error = NULL;

    uint64_t study_id, t0, t1;
    hpo_store_begin (store);
    CHECK (hpo_store_study_insert (store, "s1", "name: s1\n", 10.0,
                                   &study_id) == 0);
    hpo_store_trial_row_t row = {.study_id = study_id,
                                 .number = 0,
                                 .state = "WAITING",
                                 .params = "{\"x\": 1}"};
    CHECK (hpo_store_trial_insert (store, &row, &t0) == 0);
    row.number = 1;
    CHECK (hpo_store_trial_insert (store, &row, &t1) == 0);
    CHECK (t1 == t0 + 1);
    hpo_store_attempt_row_t lost = {.attempt = 1,
                                    .worker = "w0",
                                    .started = 11.0,
                                    .ended = 12.0,
                                    .outcome = "LOST",
                                    .reason = "lease expired"};
    CHECK (hpo_store_attempt_end (store, t0, &lost) == 0);
    //  Values: a resend of the same step changes nothing; a newer attempt
    //  replaces the older one's value.
    CHECK (hpo_store_value_put (store, t0, 1, 0, "loss", 9.0) == 0);
    CHECK (hpo_store_value_put (store, t0, 1, 1, "loss", 8.0) == 0);
    CHECK (hpo_store_value_put (store, t0, 2, 0, "loss", 1.0) == 0);
    CHECK (hpo_store_value_put (store, t0, 2, 0, "loss", 1.0) == 0);
    CHECK (hpo_store_value_put (store, t0, 1, 0, "loss", 7.0) == 0);
    hpo_store_trial_row_t done = {.id = t0,
                                  .state = "COMPLETE",
                                  .attempt = 2,
                                  .failures = 1,
                                  .has_value = 1,
                                  .value = 0.25,
                                  .worker = "w1",
                                  .started = 13.0,
                                  .ended = 14.0};
    CHECK (hpo_store_trial_update (store, &done) == 0);
    hpo_store_attempt_row_t done2 = {.attempt = 2,
                                     .worker = "w1",
                                     .started = 13.0,
                                     .ended = 14.0,
                                     .outcome = "COMPLETE",
                                     .log_tail = "tail"};
    CHECK (hpo_store_attempt_end (store, t0, &done2) == 0);
    //  An attempt ends once: a second end changes nothing.
    hpo_store_attempt_row_t late = done2;
    late.outcome = "FAILED";
    late.reason = "late";
    CHECK (hpo_store_attempt_end (store, t0, &late) == 0);
    CHECK (hpo_store_study_state (store, study_id, "FINISHED", 20.0) == 0);
    CHECK (hpo_store_commit (store) == 0);

    //  Uncommitted work is gone after a rollback.
    hpo_store_begin (store);
    uint64_t ghost;
    CHECK (hpo_store_study_insert (store, "ghost", "x", 1.0, &ghost) == 0);
    CHECK (hpo_store_rollback (store) == 0);
    hpo_store_destroy (&store);
    CHECK (store == NULL);
    hpo_store_destroy (&store); //  idempotent

    //  Reopen: everything committed is there, nothing else.
    store = hpo_store_open (path, HPO_SYNC_FULL, &error);
    CHECK (store != NULL);
    int studies = 0, trials = 0, attempts = 0;
    CHECK (hpo_store_studies (store, s_study, &studies) == 0);
    CHECK (studies == 1);
    CHECK (hpo_store_trials (store, s_count_trials, &trials) == 0);
    CHECK (trials == 2);
    CHECK (hpo_store_attempts (store, t0, s_attempt, &attempts) == 0);
    CHECK (attempts == 2);
    s_values_t values = {0};
    CHECK (hpo_store_values (store, t0, s_value, &values) == 0);
    CHECK (values.n == 2);
    CHECK (values.steps[0] == 0 && values.values[0] == 1.0);
    CHECK (values.steps[1] == 1 && values.values[1] == 8.0);

    s_test_plans (store);
    hpo_store_destroy (&store);

    //  A database from a newer hpo is refused, not damaged.
    sqlite3 *db;
    CHECK (sqlite3_open (path, &db) == SQLITE_OK);
    CHECK (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL) ==
           SQLITE_OK);
    sqlite3_close (db);
    store = hpo_store_open (path, HPO_SYNC_FULL, &error);
    CHECK (store == NULL);
    CHECK_CONTAINS (error, "newer");
    free (error);
    char *cmd;
    cmd = hpo_sprintf ("rm -rf %s", dir);
    CHECK (system (cmd) == 0);
    free (cmd);
    free (path);
    TEST_DONE ();
}
