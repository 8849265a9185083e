/*  log.h: the one logging module; nothing else in hpo writes to stderr
    (the CLI prints its results to stdout and its errors through here).
    A line: "2026-11-28T02:19:45.123Z INFO  [trial 12] message".

    hpo_log_warn appends strerror (errno), like OpenBSD's log_warn;
    hpo_log_warnx does not. hpo_fatal logs and exits 1: start-up only.    */
#ifndef HPO_LOG_H
#define HPO_LOG_H

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

#endif
