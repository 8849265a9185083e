/*  store.c: SQLite behind the domain API of store.h. Every statement is
    prepared once at open and reset after use (hpo_store_explain, for
    tests, prepares its own).                                            */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/mem.h"

//  Numbered migrations: migration k takes user_version k to k + 1. Never
//  edit one that has shipped; add the next.
static const char *s_migrations[] = {
    //  1: the first schema.
    "CREATE TABLE study ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  spec TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  created REAL NOT NULL,"
    "  ended REAL NOT NULL DEFAULT 0);"
    "CREATE TABLE trial ("
    "  id INTEGER PRIMARY KEY,"
    "  study_id INTEGER NOT NULL REFERENCES study(id),"
    "  number INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  attempt INTEGER NOT NULL DEFAULT 0,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  params TEXT NOT NULL,"
    "  value REAL,"
    "  worker TEXT,"
    "  started REAL NOT NULL DEFAULT 0,"
    "  ended REAL NOT NULL DEFAULT 0,"
    "  reason TEXT,"
    "  UNIQUE (study_id, number));"
    "CREATE TABLE attempt ("
    "  trial_id INTEGER NOT NULL REFERENCES trial(id),"
    "  attempt INTEGER NOT NULL,"
    "  worker TEXT NOT NULL,"
    "  started REAL NOT NULL,"
    "  ended REAL NOT NULL DEFAULT 0,"
    "  outcome TEXT,"
    "  reason TEXT,"
    "  log_tail TEXT,"
    "  PRIMARY KEY (trial_id, attempt)) WITHOUT ROWID;"
    "CREATE TABLE value ("
    "  trial_id INTEGER NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  metric TEXT NOT NULL,"
    "  attempt INTEGER NOT NULL,"
    "  value REAL NOT NULL,"
    "  PRIMARY KEY (trial_id, step, metric)) WITHOUT ROWID;",
    //  2: attempts lost to the worker are counted apart from the
    //  program's failures (trial.max_lost against trial.retries).
    "ALTER TABLE trial ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;",
    //  3: a study that failed says why; hpo study extend raises its
    //  budget (0: the spec's); fail fast counts from its last resume.
    "ALTER TABLE study ADD COLUMN reason TEXT;"
    "ALTER TABLE study ADD COLUMN budget INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE study ADD COLUMN fail_base INTEGER NOT NULL DEFAULT 0;",
};
#define S_SCHEMA_VERSION ((int)(sizeof s_migrations / sizeof *s_migrations))

typedef enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_STUDY_INSERT,
    S_STUDY_STATE,
    S_STUDY_UPDATE,
    S_STUDY_DEL_VALUES,
    S_STUDY_DEL_ATTEMPTS,
    S_STUDY_DEL_TRIALS,
    S_STUDY_DEL,
    S_STUDIES,
    S_TRIAL_INSERT,
    S_TRIAL_UPDATE,
    S_TRIALS,
    S_ATTEMPT_END,
    S_ATTEMPTS,
    S_VALUE_PUT,
    S_VALUES,
    S_ALL_ATTEMPTS,
    S_ALL_VALUES,
    S_COUNT
} s_stmt_t;

static const char *s_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_STUDY_INSERT] =
        "INSERT INTO study (name, spec, state, created) VALUES (?,?,?,?)",
    [S_STUDY_STATE] = "UPDATE study SET state = ?, ended = ? WHERE id = ?",
    [S_STUDY_UPDATE] = "UPDATE study SET state = ?, ended = ?, reason = ?,"
                       " budget = ?, fail_base = ? WHERE id = ?",
    //  A study's rows, children first (the trial's study_id and the
    //  attempt's trial_id are foreign keys); each through an index.
    [S_STUDY_DEL_VALUES] = "DELETE FROM value WHERE trial_id IN"
                           " (SELECT id FROM trial WHERE study_id = ?)",
    [S_STUDY_DEL_ATTEMPTS] = "DELETE FROM attempt WHERE trial_id IN"
                             " (SELECT id FROM trial WHERE study_id = ?)",
    [S_STUDY_DEL_TRIALS] = "DELETE FROM trial WHERE study_id = ?",
    [S_STUDY_DEL] = "DELETE FROM study WHERE id = ?",
    [S_STUDIES] = "SELECT id, name, spec, state, created, ended, reason,"
                  " budget, fail_base FROM study ORDER BY id",
    [S_TRIAL_INSERT] =
        "INSERT INTO trial (study_id, number, state, attempt, failures,"
        " params, value, worker, started, ended, reason, id, lost)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_TRIAL_UPDATE] =
        "UPDATE trial SET state = ?, attempt = ?, failures = ?, value = ?,"
        " worker = ?, started = ?, ended = ?, reason = ?, lost = ?"
        " WHERE id = ?",
    [S_TRIALS] =
        "SELECT id, study_id, number, state, attempt, failures, params,"
        " value, worker, started, ended, reason, lost FROM trial ORDER BY id",
    //  An attempt's row is written once, when it ends (while it runs,
    //  the trial's row says where and since when); a second end of the
    //  same attempt changes nothing.
    [S_ATTEMPT_END] =
        "INSERT OR IGNORE INTO attempt (trial_id, attempt, worker, started,"
        " ended, outcome, reason, log_tail) VALUES (?,?,?,?,?,?,?,?)",
    [S_ATTEMPTS] =
        "SELECT attempt, worker, started, ended, outcome, reason, log_tail"
        " FROM attempt WHERE trial_id = ? ORDER BY attempt",
    //  A newer attempt's value replaces an older one's; a resent report
    //  from the same attempt is a no-op.
    [S_VALUE_PUT] =
        "INSERT INTO value (trial_id, step, metric, attempt, value)"
        " VALUES (?,?,?,?,?) ON CONFLICT (trial_id, step, metric)"
        " DO UPDATE SET attempt = excluded.attempt, value = excluded.value"
        " WHERE excluded.attempt > value.attempt",
    [S_VALUES] = "SELECT step, metric, value FROM value WHERE trial_id = ?"
                 " ORDER BY step, metric",
    //  A snapshot's (hpo_feed_snapshot): whole tables, by primary key.
    [S_ALL_ATTEMPTS] =
        "SELECT attempt, worker, started, ended, outcome, reason, log_tail,"
        " trial_id FROM attempt ORDER BY trial_id, attempt",
    [S_ALL_VALUES] = "SELECT trial_id, attempt, step, metric, value"
                     " FROM value ORDER BY trial_id, step, metric",
};

struct _hpo_store_t {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    int in_tx;      //  a transaction is open
    int want_tx;    //  hpo_store_begin called: writes go in one transaction
    int failed;     //  a write of a turn failed: no more writes or commits
    int fail_after; //  test hook: writes that run before one fails; -1 off
    uint64_t commits;
    const hpo_store_tap_t *tap; //  the dashboard's, or NULL
    void *tap_ctx;
};

static int
s_fail (hpo_store_t *self, const char *what)
{
    hpo_log_error ("store: %s: %s", what, sqlite3_errmsg (self->db));
    return -1;
}

//  Runs a prepared statement that returns no rows, then resets it. Every
//  statement binds all of its parameters on every run, so bindings are
//  never cleared.
static int
s_run (hpo_store_t *self, s_stmt_t which)
{
    sqlite3_stmt *st = self->stmt[which];
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    if (rc != SQLITE_DONE)
        return s_fail (self, s_sql[which]);
    return 0;
}

static void
s_bind_text (sqlite3_stmt *st, int col, const char *text)
{
    if (text)
        sqlite3_bind_text (st, col, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null (st, col);
}

static const char *
s_col_text (sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text (st, col);
}

static int
s_exec (sqlite3 *db, const char *sql, char **error)
{
    char *msg = NULL;
    if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        *error = hpo_sprintf ("%s", msg ? msg : sqlite3_errmsg (db));
        sqlite3_free (msg);
        return -1;
    }
    return 0;
}

static int
s_migrate (sqlite3 *db, char **error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK) {
        *error = hpo_sprintf ("%s", sqlite3_errmsg (db));
        return -1;
    }
    int version =
        sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int (st, 0) : -1;
    sqlite3_finalize (st);
    if (version < 0) {
        *error =
            hpo_sprintf ("cannot read schema version: %s", sqlite3_errmsg (db));
        return -1;
    }
    if (version > S_SCHEMA_VERSION) {
        *error = hpo_sprintf ("database schema version %d is newer than this "
                              "hpo-coordinator knows (%d)",
                              version, S_SCHEMA_VERSION);
        return -1;
    }
    for (int v = version; v < S_SCHEMA_VERSION; v++) {
        //  Each migration and its version bump commit together.
        char *sql = hpo_sprintf ("BEGIN; %s PRAGMA user_version = %d; COMMIT;",
                                 s_migrations[v], v + 1);
        int rc = s_exec (db, sql, error);
        free (sql);
        if (rc) {
            sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        hpo_log_info ("store: migrated schema to version %d", v + 1);
    }
    return 0;
}

//  Why the database at path cannot be written, in words, or NULL when
//  nothing is known to stop it. SQLite itself says "disk I/O error" or
//  "attempt to write a readonly database" well after opening; this says
//  what the person has to fix. The directory matters too: the
//  write-ahead log is created beside the file.
static char *
s_unwritable (const char *path)
{
    char *copy = hpo_strdup (path);
    char *dir = hpo_strdup (dirname (copy));
    free (copy);
    char *why = NULL;
    struct stat st;
    struct statvfs vfs;
    if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode))
        why =
            hpo_sprintf ("database %s: directory %s does not exist", path, dir);
    else if ((statvfs (dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) ||
             (access (path, W_OK) != 0 && errno == EROFS) ||
             (access (dir, W_OK) != 0 && errno == EROFS))
        why = hpo_sprintf ("database %s is on a read-only filesystem", path);
    else if (access (path, F_OK) == 0 && access (path, W_OK) != 0)
        why = hpo_sprintf ("database %s is not writable: %s", path,
                           strerror (errno));
    else if (access (dir, W_OK) != 0)
        why = hpo_sprintf ("database %s: directory %s is not writable (%s); "
                           "the database and its write-ahead log live there",
                           path, dir, strerror (errno));
    free (dir);
    return why;
}

//  Sets the connection up and migrates the schema; on failure, -1 with
//  *error set to what the person has to know.
static int
s_configure (sqlite3 *db, const char *path, hpo_sync_t sync, char **error)
{
    static const char *sync_sql[] = {
        "PRAGMA synchronous = FULL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA synchronous = OFF",
    };
    char *why = NULL;
    //  Another coordinator on the same file would break the single-writer
    //  design: take the file for ourselves (exclusive locking also keeps
    //  the WAL index in heap memory, no shared-memory file).
    if (s_exec (db, "PRAGMA locking_mode = EXCLUSIVE", &why) ||
        s_exec (db, "PRAGMA journal_mode = WAL", &why) ||
        s_exec (db, sync_sql[sync], &why) ||
        s_exec (db, "PRAGMA foreign_keys = ON", &why) ||
        s_exec (db, "PRAGMA cache_size = -65536", &why) ||
        s_migrate (db, &why)) {
        int code = sqlite3_errcode (db);
        *error = hpo_sprintf (
            "%s: %s%s", path, why,
            code == SQLITE_BUSY ? " (is another hpo-coordinator using it?)"
            : (code & 0xff) == SQLITE_READONLY
                ? " (the database or its directory is read-only)"
                : "");
        free (why);
        return -1;
    }
    //  Take the exclusive lock now, not at the first write, so a second
    //  coordinator on this database fails at start-up.
    if (s_exec (db, "BEGIN EXCLUSIVE; COMMIT;", &why)) {
        *error = hpo_sprintf ("%s: %s (is another hpo-coordinator using it?)",
                              path, why);
        free (why);
        return -1;
    }
    return 0;
}

hpo_store_t *
hpo_store_open (const char *path, hpo_sync_t sync, char **error)
{
    char *why = s_unwritable (path);
    if (why) {
        *error = why;
        return NULL;
    }
    //  The coordinator uses SQLite from its one loop thread only: no
    //  mutexes, no allocation statistics (both cost on every statement).
    //  Refused, harmlessly, once SQLite is initialised.
    sqlite3_config (SQLITE_CONFIG_SINGLETHREAD);
    sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
    hpo_store_t *self = hpo_calloc (1, sizeof *self);
    self->fail_after = -1;
    if (sqlite3_open_v2 (path, &self->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX,
                         NULL) != SQLITE_OK)
        why = hpo_sprintf ("cannot open %s: %s", path,
                           self->db ? sqlite3_errmsg (self->db)
                                    : "out of memory");
    else if (s_configure (self->db, path, sync, &why) == 0)
        for (int k = 0; k < S_COUNT && !why; k++)
            if (sqlite3_prepare_v3 (self->db, s_sql[k], -1,
                                    SQLITE_PREPARE_PERSISTENT, &self->stmt[k],
                                    NULL) != SQLITE_OK)
                why = hpo_sprintf ("%s: preparing \"%s\": %s", path, s_sql[k],
                                   sqlite3_errmsg (self->db));
    if (why) {
        *error = why;
        hpo_store_destroy (&self);
    }
    return self;
}

void
hpo_store_destroy (hpo_store_t **self_p)
{
    hpo_store_t *self = *self_p;
    if (!self)
        return;
    for (int k = 0; k < S_COUNT; k++)
        sqlite3_finalize (self->stmt[k]);
    if (self->db)
        sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

//  The transaction opens at the first write after hpo_store_begin: a loop
//  turn that only renews leases or answers queries touches no file.
void
hpo_store_begin (hpo_store_t *self)
{
    self->want_tx = 1;
}

//  Test hook (hpo_store_fail_after): whether this write is the one to
//  fail. It fails as a disk error would: logged, and nothing run.
static int
s_injected (hpo_store_t *self, s_stmt_t which)
{
    if (self->fail_after < 0 || self->fail_after-- > 0)
        return 0;
    hpo_log_error ("store: %s: failure injected by a test", s_sql[which]);
    return 1;
}

//  Runs a write statement, inside the turn's transaction if one is wanted.
//  A failure there fails the store (store.h says why).
static int
s_write (hpo_store_t *self, s_stmt_t which)
{
    if (self->failed)
        return -1; //  logged when it failed
    int rc = 0;
    if (self->want_tx && !self->in_tx) {
        rc = s_run (self, S_BEGIN);
        self->in_tx = rc == 0;
    }
    if (rc == 0)
        rc = s_injected (self, which) ? -1 : s_run (self, which);
    if (rc && self->want_tx)
        self->failed = 1;
    return rc;
}

//  Ends the turn's transaction, if it opened one, with which (COMMIT or
//  ROLLBACK).
static int
s_end (hpo_store_t *self, s_stmt_t which)
{
    self->want_tx = 0;
    if (!self->in_tx)
        return 0;
    self->in_tx = 0;
    if (which == S_COMMIT && s_injected (self, which))
        return -1;
    return s_run (self, which);
}

//  A write made outside a turn was its own transaction: the tap hears
//  it committed at once.
static void
s_tapped (hpo_store_t *self)
{
    if (!self->want_tx)
        self->tap->commit (self->tap_ctx);
}

void
hpo_store_set_tap (hpo_store_t *self, const hpo_store_tap_t *tap, void *ctx)
{
    assert (!tap || (tap->commit && tap->rollback));
    self->tap = tap;
    self->tap_ctx = ctx;
}

int
hpo_store_commit (hpo_store_t *self)
{
    int open = self->in_tx;
    if (!self->failed && s_end (self, S_COMMIT) == 0) {
        self->commits += open;
        if (self->tap)
            self->tap->commit (self->tap_ctx);
        return 0;
    }
    if (self->tap)
        self->tap->rollback (self->tap_ctx);
    //  Nothing of a failed turn may stay. A COMMIT that failed may have
    //  left the transaction open, or SQLite may have rolled it back.
    self->failed = 1;
    self->in_tx = self->want_tx = 0;
    if (!sqlite3_get_autocommit (self->db))
        s_run (self, S_ROLLBACK);
    return -1;
}

int
hpo_store_rollback (hpo_store_t *self)
{
    if (self->tap)
        self->tap->rollback (self->tap_ctx);
    return s_end (self, S_ROLLBACK);
}

int
hpo_store_failed (hpo_store_t *self)
{
    return self->failed;
}

void
hpo_store_fail_after (hpo_store_t *self, int n)
{
    self->fail_after = n < 0 ? -1 : n;
}

uint64_t
hpo_store_commits (hpo_store_t *self)
{
    return self->commits;
}

int
hpo_store_study_insert (hpo_store_t *self, const char *name,
                        const char *spec_text, double created, uint64_t *id)
{
    sqlite3_stmt *st = self->stmt[S_STUDY_INSERT];
    s_bind_text (st, 1, name);
    s_bind_text (st, 2, spec_text);
    s_bind_text (st, 3, "RUNNING");
    sqlite3_bind_double (st, 4, created);
    if (s_write (self, S_STUDY_INSERT))
        return -1;
    *id = (uint64_t)sqlite3_last_insert_rowid (self->db);
    if (self->tap) {
        if (self->tap->study_insert)
            self->tap->study_insert (self->tap_ctx, *id, name, spec_text,
                                     created);
        s_tapped (self);
    }
    return 0;
}

int
hpo_store_study_state (hpo_store_t *self, uint64_t id, const char *state,
                       double ended)
{
    sqlite3_stmt *st = self->stmt[S_STUDY_STATE];
    s_bind_text (st, 1, state);
    sqlite3_bind_double (st, 2, ended);
    sqlite3_bind_int64 (st, 3, (sqlite3_int64)id);
    if (s_write (self, S_STUDY_STATE))
        return -1;
    if (self->tap) {
        if (self->tap->study_state)
            self->tap->study_state (self->tap_ctx, id, state, ended);
        s_tapped (self);
    }
    return 0;
}

int
hpo_store_study_update (hpo_store_t *self, const hpo_store_study_row_t *row)
{
    sqlite3_stmt *st = self->stmt[S_STUDY_UPDATE];
    s_bind_text (st, 1, row->state);
    sqlite3_bind_double (st, 2, row->ended);
    s_bind_text (st, 3, row->reason);
    sqlite3_bind_int64 (st, 4, (sqlite3_int64)row->budget);
    sqlite3_bind_int64 (st, 5, (sqlite3_int64)row->fail_base);
    sqlite3_bind_int64 (st, 6, (sqlite3_int64)row->id);
    if (s_write (self, S_STUDY_UPDATE))
        return -1;
    if (self->tap) {
        if (self->tap->study_update)
            self->tap->study_update (self->tap_ctx, row);
        s_tapped (self);
    }
    return 0;
}

int
hpo_store_study_delete (hpo_store_t *self, uint64_t id)
{
    static const s_stmt_t steps[] = {S_STUDY_DEL_VALUES, S_STUDY_DEL_ATTEMPTS,
                                     S_STUDY_DEL_TRIALS, S_STUDY_DEL};
    //  Outside a turn, the four deletes still make one transaction.
    int own = !self->want_tx, was_failed = self->failed;
    if (own)
        hpo_store_begin (self);
    int rc = 0;
    for (size_t k = 0; k < sizeof steps / sizeof *steps && rc == 0; k++) {
        sqlite3_bind_int64 (self->stmt[steps[k]], 1, (sqlite3_int64)id);
        rc = s_write (self, steps[k]);
    }
    //  Reported before its own commit, which tells the tap it committed.
    if (rc == 0 && self->tap && self->tap->study_delete)
        self->tap->study_delete (self->tap_ctx, id);
    if (own) {
        //  Outside a turn a failure is only returned (store.h).
        if (rc == 0)
            rc = hpo_store_commit (self);
        else
            hpo_store_rollback (self);
        self->failed = was_failed;
    }
    return rc;
}

//  Steps a query, calling row_fn for each row; resets the statement.
typedef int (s_row_fn) (sqlite3_stmt *st, void *fn, void *ctx);

static int
s_query (hpo_store_t *self, s_stmt_t which, s_row_fn *row_fn, void *fn,
         void *ctx)
{
    sqlite3_stmt *st = self->stmt[which];
    int rc;
    int result = 0;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        if ((result = row_fn (st, fn, ctx)) != 0)
            break;
    if (result == 0 && rc != SQLITE_DONE)
        result = s_fail (self, s_sql[which]);
    sqlite3_reset (st);
    return result;
}

static int
s_study_row (sqlite3_stmt *st, void *fn, void *ctx)
{
    hpo_store_study_row_t row = {
        .id = (uint64_t)sqlite3_column_int64 (st, 0),
        .name = s_col_text (st, 1),
        .spec = s_col_text (st, 2),
        .state = s_col_text (st, 3),
        .created = sqlite3_column_double (st, 4),
        .ended = sqlite3_column_double (st, 5),
        .reason = s_col_text (st, 6),
        .budget = (uint64_t)sqlite3_column_int64 (st, 7),
        .fail_base = (uint64_t)sqlite3_column_int64 (st, 8),
    };
    return ((hpo_store_study_fn *)fn) (ctx, &row);
}

int
hpo_store_studies (hpo_store_t *self, hpo_store_study_fn *fn, void *ctx)
{
    return s_query (self, S_STUDIES, s_study_row, (void *)fn, ctx);
}

static void
s_bind_trial (sqlite3_stmt *st, int col, const hpo_store_trial_row_t *row)
{
    //  Shared column order of INSERT (after study_id, number) and UPDATE.
    s_bind_text (st, col++, row->state);
    sqlite3_bind_int (st, col++, (int)row->attempt);
    sqlite3_bind_int (st, col++, (int)row->failures);
}

int
hpo_store_trial_insert (hpo_store_t *self, const hpo_store_trial_row_t *row,
                        uint64_t *id)
{
    sqlite3_stmt *st = self->stmt[S_TRIAL_INSERT];
    sqlite3_bind_int64 (st, 1, (sqlite3_int64)row->study_id);
    sqlite3_bind_int64 (st, 2, (sqlite3_int64)row->number);
    s_bind_trial (st, 3, row);
    s_bind_text (st, 6, row->params);
    if (row->has_value)
        sqlite3_bind_double (st, 7, row->value);
    else
        sqlite3_bind_null (st, 7);
    s_bind_text (st, 8, row->worker);
    sqlite3_bind_double (st, 9, row->started);
    sqlite3_bind_double (st, 10, row->ended);
    s_bind_text (st, 11, row->reason);
    if (row->id)
        sqlite3_bind_int64 (st, 12, (sqlite3_int64)row->id);
    else
        sqlite3_bind_null (st, 12);
    sqlite3_bind_int64 (st, 13, (sqlite3_int64)row->lost);
    if (s_write (self, S_TRIAL_INSERT))
        return -1;
    *id = (uint64_t)sqlite3_last_insert_rowid (self->db);
    if (self->tap) {
        if (self->tap->trial_insert) {
            hpo_store_trial_row_t got = *row;
            got.id = *id;
            self->tap->trial_insert (self->tap_ctx, &got);
        }
        s_tapped (self);
    }
    return 0;
}

int
hpo_store_trial_update (hpo_store_t *self, const hpo_store_trial_row_t *row)
{
    sqlite3_stmt *st = self->stmt[S_TRIAL_UPDATE];
    s_bind_trial (st, 1, row);
    if (row->has_value)
        sqlite3_bind_double (st, 4, row->value);
    else
        sqlite3_bind_null (st, 4);
    s_bind_text (st, 5, row->worker);
    sqlite3_bind_double (st, 6, row->started);
    sqlite3_bind_double (st, 7, row->ended);
    s_bind_text (st, 8, row->reason);
    sqlite3_bind_int64 (st, 9, (sqlite3_int64)row->lost);
    sqlite3_bind_int64 (st, 10, (sqlite3_int64)row->id);
    if (s_write (self, S_TRIAL_UPDATE))
        return -1;
    if (self->tap) {
        if (self->tap->trial_update)
            self->tap->trial_update (self->tap_ctx, row);
        s_tapped (self);
    }
    return 0;
}

static int
s_trial_row (sqlite3_stmt *st, void *fn, void *ctx)
{
    hpo_store_trial_row_t row = {
        .id = (uint64_t)sqlite3_column_int64 (st, 0),
        .study_id = (uint64_t)sqlite3_column_int64 (st, 1),
        .number = (uint64_t)sqlite3_column_int64 (st, 2),
        .state = s_col_text (st, 3),
        .attempt = (uint32_t)sqlite3_column_int (st, 4),
        .failures = (uint32_t)sqlite3_column_int (st, 5),
        .params = s_col_text (st, 6),
        .has_value = sqlite3_column_type (st, 7) != SQLITE_NULL,
        .value = sqlite3_column_double (st, 7),
        .worker = s_col_text (st, 8),
        .started = sqlite3_column_double (st, 9),
        .ended = sqlite3_column_double (st, 10),
        .reason = s_col_text (st, 11),
        .lost = (uint32_t)sqlite3_column_int64 (st, 12),
    };
    return ((hpo_store_trial_fn *)fn) (ctx, &row);
}

int
hpo_store_trials (hpo_store_t *self, hpo_store_trial_fn *fn, void *ctx)
{
    return s_query (self, S_TRIALS, s_trial_row, (void *)fn, ctx);
}

int
hpo_store_attempt_end (hpo_store_t *self, uint64_t trial_id,
                       const hpo_store_attempt_row_t *row)
{
    sqlite3_stmt *st = self->stmt[S_ATTEMPT_END];
    sqlite3_bind_int64 (st, 1, (sqlite3_int64)trial_id);
    sqlite3_bind_int (st, 2, (int)row->attempt);
    s_bind_text (st, 3, row->worker ? row->worker : "");
    sqlite3_bind_double (st, 4, row->started);
    sqlite3_bind_double (st, 5, row->ended);
    s_bind_text (st, 6, row->outcome);
    s_bind_text (st, 7, row->reason);
    s_bind_text (st, 8, row->log_tail);
    if (s_write (self, S_ATTEMPT_END))
        return -1;
    //  INSERT OR IGNORE: an attempt ended again wrote nothing.
    if (self->tap && sqlite3_changes (self->db) > 0) {
        if (self->tap->attempt_end)
            self->tap->attempt_end (self->tap_ctx, trial_id, row);
        s_tapped (self);
    }
    return 0;
}

//  The attempt row in the first seven columns of S_ATTEMPTS and
//  S_ALL_ATTEMPTS.
static hpo_store_attempt_row_t
s_attempt_of (sqlite3_stmt *st)
{
    return (hpo_store_attempt_row_t){
        .attempt = (uint32_t)sqlite3_column_int (st, 0),
        .worker = s_col_text (st, 1),
        .started = sqlite3_column_double (st, 2),
        .ended = sqlite3_column_double (st, 3),
        .outcome = s_col_text (st, 4),
        .reason = s_col_text (st, 5),
        .log_tail = s_col_text (st, 6),
    };
}

static int
s_attempt_row (sqlite3_stmt *st, void *fn, void *ctx)
{
    hpo_store_attempt_row_t row = s_attempt_of (st);
    return ((hpo_store_attempt_fn *)fn) (ctx, &row);
}

int
hpo_store_attempts (hpo_store_t *self, uint64_t trial_id,
                    hpo_store_attempt_fn *fn, void *ctx)
{
    sqlite3_bind_int64 (self->stmt[S_ATTEMPTS], 1, (sqlite3_int64)trial_id);
    return s_query (self, S_ATTEMPTS, s_attempt_row, (void *)fn, ctx);
}

int
hpo_store_value_put (hpo_store_t *self, uint64_t trial_id, uint32_t attempt,
                     int64_t step, const char *metric, double value)
{
    sqlite3_stmt *st = self->stmt[S_VALUE_PUT];
    sqlite3_bind_int64 (st, 1, (sqlite3_int64)trial_id);
    sqlite3_bind_int64 (st, 2, (sqlite3_int64)step);
    s_bind_text (st, 3, metric);
    sqlite3_bind_int (st, 4, (int)attempt);
    sqlite3_bind_double (st, 5, value);
    if (s_write (self, S_VALUE_PUT))
        return -1;
    //  A value resent by the attempt that wrote it changed nothing.
    if (self->tap && sqlite3_changes (self->db) > 0) {
        if (self->tap->value_put)
            self->tap->value_put (self->tap_ctx, trial_id, attempt, step,
                                  metric, value);
        s_tapped (self);
    }
    return 0;
}

static int
s_value_row (sqlite3_stmt *st, void *fn, void *ctx)
{
    return ((hpo_store_value_fn *)fn) (ctx, sqlite3_column_int64 (st, 0),
                                       s_col_text (st, 1),
                                       sqlite3_column_double (st, 2));
}

int
hpo_store_values (hpo_store_t *self, uint64_t trial_id, hpo_store_value_fn *fn,
                  void *ctx)
{
    sqlite3_bind_int64 (self->stmt[S_VALUES], 1, (sqlite3_int64)trial_id);
    return s_query (self, S_VALUES, s_value_row, (void *)fn, ctx);
}

static int
s_any_attempt_row (sqlite3_stmt *st, void *fn, void *ctx)
{
    hpo_store_attempt_row_t row = s_attempt_of (st);
    return ((hpo_store_any_attempt_fn *)fn) (
        ctx, (uint64_t)sqlite3_column_int64 (st, 7), &row);
}

int
hpo_store_all_attempts (hpo_store_t *self, hpo_store_any_attempt_fn *fn,
                        void *ctx)
{
    return s_query (self, S_ALL_ATTEMPTS, s_any_attempt_row, (void *)fn, ctx);
}

static int
s_any_value_row (sqlite3_stmt *st, void *fn, void *ctx)
{
    return ((hpo_store_any_value_fn *)fn) (
        ctx, (uint64_t)sqlite3_column_int64 (st, 0),
        (uint32_t)sqlite3_column_int (st, 1), sqlite3_column_int64 (st, 2),
        s_col_text (st, 3), sqlite3_column_double (st, 4));
}

int
hpo_store_all_values (hpo_store_t *self, hpo_store_any_value_fn *fn, void *ctx)
{
    return s_query (self, S_ALL_VALUES, s_any_value_row, (void *)fn, ctx);
}

char *
hpo_store_explain (hpo_store_t *self, const char *which)
{
    static const struct {
        const char *name;
        s_stmt_t stmt;
    } map[] = {
        {"trial_update", S_TRIAL_UPDATE},
        {"value_put", S_VALUE_PUT},
        {"values", S_VALUES},
        {"attempt_end", S_ATTEMPT_END},
        {"attempts", S_ATTEMPTS},
    };
    const char *sql = NULL;
    for (size_t k = 0; k < sizeof map / sizeof *map; k++)
        if (strcmp (map[k].name, which) == 0)
            sql = s_sql[map[k].stmt];
    if (!sql)
        return NULL;
    char *explain = hpo_sprintf ("EXPLAIN QUERY PLAN %s", sql);
    char *plan = NULL;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2 (self->db, explain, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        plan = hpo_strdup ("");
        while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
            char *next = hpo_sprintf ("%s%s\n", plan, s_col_text (st, 3));
            free (plan);
            plan = next;
        }
        sqlite3_finalize (st);
    }
    //  No plan rather than an empty one: an empty plan means "reads no
    //  table", which the test accepts.
    if (rc != SQLITE_DONE) {
        s_fail (self, explain);
        free (plan);
        plan = NULL;
    }
    free (explain);
    return plan;
}

//  Prepared per call rather than at open: it runs once per study at
//  start-up, and only for studies whose sampler or pruner reads curves.
//  The trial table's (study_id, number) index orders the trials, the
//  value table's key (trial_id, step, metric) their steps: no sort.
int
hpo_store_curves (hpo_store_t *self, uint64_t study_id, const char *metric,
                  hpo_store_curve_fn *fn, void *ctx)
{
    static const char *sql =
        "SELECT t.number, v.step, v.value FROM trial t JOIN value v"
        " ON v.trial_id = t.id AND v.attempt = t.attempt"
        " WHERE t.study_id = ? AND v.metric = ? ORDER BY t.number, v.step";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return s_fail (self, sql);
    sqlite3_bind_int64 (st, 1, (sqlite3_int64)study_id);
    s_bind_text (st, 2, metric);
    int rc, result = 0;
    while (result == 0 && (rc = sqlite3_step (st)) == SQLITE_ROW)
        result =
            fn (ctx, (uint64_t)sqlite3_column_int64 (st, 0),
                sqlite3_column_int64 (st, 1), sqlite3_column_double (st, 2));
    if (result == 0 && rc != SQLITE_DONE)
        result = s_fail (self, sql);
    sqlite3_finalize (st);
    return result;
}

//  Prepared per call, like hpo_store_curves: it serves hpo trial show and
//  hpo export, not the hot path. All values walk the value table's key
//  (trial_id, step, metric), so OFFSET resumes a page without a sort;
//  the last value of each metric is its latest attempt's highest step.
int
hpo_store_trial_values (hpo_store_t *self, uint64_t trial_id, int last,
                        uint64_t skip, hpo_store_trial_value_fn *fn, void *ctx)
{
    static const char *all_sql =
        "SELECT attempt, step, metric, value FROM value WHERE trial_id = ?"
        " ORDER BY step, metric LIMIT -1 OFFSET ?";
    static const char *last_sql =
        "SELECT attempt, step, metric, value FROM (SELECT attempt, step,"
        " metric, value, row_number () OVER (PARTITION BY metric"
        " ORDER BY attempt DESC, step DESC) AS r FROM value"
        " WHERE trial_id = ?) WHERE r = 1 ORDER BY metric";
    const char *sql = last ? last_sql : all_sql;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return s_fail (self, sql);
    sqlite3_bind_int64 (st, 1, (sqlite3_int64)trial_id);
    if (!last)
        sqlite3_bind_int64 (st, 2, (sqlite3_int64)skip);
    int rc, result = 0;
    while (result == 0 && (rc = sqlite3_step (st)) == SQLITE_ROW)
        result = fn (ctx, (uint32_t)sqlite3_column_int (st, 0),
                     sqlite3_column_int64 (st, 1), s_col_text (st, 2),
                     sqlite3_column_double (st, 3));
    if (result == 0 && rc != SQLITE_DONE)
        result = s_fail (self, sql);
    sqlite3_finalize (st);
    return result;
}

//  ---- online backup --------------------------------------------------------

struct _hpo_store_backup_t {
    sqlite3 *dest;
    sqlite3_backup *backup;
    char *path;
    char *part; //  path.part, renamed path when complete
    int done;
};

void
hpo_store_backup_destroy (hpo_store_backup_t **backup_p)
{
    hpo_store_backup_t *b = *backup_p;
    if (!b)
        return;
    if (b->backup)
        sqlite3_backup_finish (b->backup);
    sqlite3_close (b->dest);
    if (!b->done)
        unlink (b->part);
    free (b->path);
    free (b->part);
    free (b);
    *backup_p = NULL;
}

static hpo_store_backup_t *
s_backup_new (sqlite3 *src, const char *path, char **error)
{
    if (access (path, F_OK) == 0) {
        *error =
            hpo_sprintf ("%s exists: a backup never replaces a file", path);
        return NULL;
    }
    hpo_store_backup_t *b = hpo_calloc (1, sizeof *b);
    b->path = hpo_strdup (path);
    b->part = hpo_sprintf ("%s.part", path);
    unlink (b->part);
    if (sqlite3_open_v2 (b->part, &b->dest,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX,
                         NULL) != SQLITE_OK ||
        !(b->backup = sqlite3_backup_init (b->dest, "main", src, "main"))) {
        *error =
            hpo_sprintf ("cannot write %s: %s", b->part,
                         b->dest ? sqlite3_errmsg (b->dest) : "out of memory");
        hpo_store_backup_destroy (&b);
    }
    return b;
}

hpo_store_backup_t *
hpo_store_backup_new (hpo_store_t *self, const char *path, char **error)
{
    return s_backup_new (self->db, path, error);
}

int
hpo_store_backup_step (hpo_store_backup_t *b, int pages, char **error)
{
    assert (b->backup && pages > 0);
    int rc = sqlite3_backup_step (b->backup, pages);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return 0; //  more to copy (or try again next turn)
    if (rc == SQLITE_DONE) {
        sqlite3_backup_finish (b->backup);
        b->backup = NULL;
        rc = sqlite3_close (b->dest);
        b->dest = NULL;
        if (rc == SQLITE_OK && rename (b->part, b->path) == 0) {
            b->done = 1;
            return 1;
        }
        *error = hpo_sprintf ("cannot complete %s: %s", b->path,
                              rc == SQLITE_OK ? strerror (errno)
                                              : sqlite3_errstr (rc));
        return -1;
    }
    *error = hpo_sprintf ("backup to %s failed: %s", b->path,
                          sqlite3_errmsg (b->dest));
    return -1;
}

int
hpo_store_backup_file (const char *db_path, const char *path, char **error)
{
    sqlite3 *src = NULL;
    if (sqlite3_open_v2 (db_path, &src, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        *error = hpo_sprintf ("cannot open %s: %s", db_path,
                              src ? sqlite3_errmsg (src) : "out of memory");
        sqlite3_close (src);
        return -1;
    }
    //  A running coordinator holds the file (exclusive locking): the read
    //  is refused at once, and the step below would only wait.
    if (sqlite3_exec (src, "SELECT count(*) FROM sqlite_master", NULL, NULL,
                      NULL) != SQLITE_OK) {
        *error = sqlite3_errcode (src) == SQLITE_BUSY
                     ? hpo_sprintf ("%s is held by a running "
                                    "hpo-coordinator: ask it for the copy "
                                    "with 'hpo admin backup %s'",
                                    db_path, path)
                     : hpo_sprintf ("cannot read %s: %s", db_path,
                                    sqlite3_errmsg (src));
        sqlite3_close (src);
        return -1;
    }
    hpo_store_backup_t *b = s_backup_new (src, path, error);
    int rc = b ? 0 : -1;
    while (rc == 0)
        rc = hpo_store_backup_step (b, 1024, error);
    hpo_store_backup_destroy (&b);
    sqlite3_close (src);
    return rc < 0 ? -1 : 0;
}
