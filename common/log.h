/*  log.h: the one logging module; nothing else in hpo writes to stderr
    (the CLI prints its results to stdout and its errors through here).
    A line: "2026-11-28T02:19:45.123Z INFO  [trial 12] message".

    hpo_log_warn appends strerror (errno), like OpenBSD's log_warn;
    hpo_log_warnx does not. hpo_fatal logs and exits 1: start-up only.

    Every line about a trial names it one way, "trial STUDY#NUMBER attempt
    N: ..." (HPO_LOG_TRIAL below), so one grep finds a trial's story in
    the coordinator's and the workers' logs alike.                       */
#ifndef HPO_LOG_H
#define HPO_LOG_H

#include <inttypes.h>
#include <stdint.h>

//  "trial %s#%llu attempt %u" with (study, number, attempt) after it.
#define HPO_LOG_TRIAL "trial %s#%" PRIu64 " attempt %" PRIu32

typedef enum {
    HPO_LOG_DEBUG = 0,
    HPO_LOG_INFO = 1,
    HPO_LOG_WARN = 2,
    HPO_LOG_ERROR = 3,
} hpo_log_level_t;

//  Program name for the line prefix, and the lowest level printed.
void hpo_log_init (const char *program, hpo_log_level_t level);
//  Parses "debug", "info", "warn", "error"; -1 if unknown.
int hpo_log_level_parse (const char *name);
//  When set, lines carry only "program: message" (for the CLI).
void hpo_log_plain (int plain);

void hpo_log (hpo_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
#define hpo_log_debug(...) hpo_log (HPO_LOG_DEBUG, __VA_ARGS__)
#define hpo_log_info(...) hpo_log (HPO_LOG_INFO, __VA_ARGS__)
#define hpo_log_warnx(...) hpo_log (HPO_LOG_WARN, __VA_ARGS__)
#define hpo_log_error(...) hpo_log (HPO_LOG_ERROR, __VA_ARGS__)
void hpo_log_warn (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));
void hpo_fatal (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2), noreturn));

//  Rate limit for a warning that a peer can provoke at will (garbage on
//  the socket, refused messages): it must not flood the log. Zero it to
//  start. hpo_log_limit counts an occurrence and returns 1 when a line
//  may be logged now (the first time, then at most once per interval_ms),
//  with limit->count the occurrences so far.
typedef struct {
    int64_t logged_at; //  monotonic ms of the last line allowed
    int logged;        //  a line was allowed at least once
    uint64_t count;    //  occurrences so far
} hpo_log_limit_t;
int hpo_log_limit (hpo_log_limit_t *limit, int64_t now_ms, int64_t interval_ms);

#endif
