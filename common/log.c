#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static const char *s_program = "hpo";
static hpo_log_level_t s_level = HPO_LOG_INFO;
static int s_plain = 0;

static const char *s_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void
hpo_log_init (const char *program, hpo_log_level_t level)
{
    s_program = program;
    s_level = level;
}

void
hpo_log_plain (int plain)
{
    s_plain = plain;
}

int
hpo_log_level_parse (const char *name)
{
    const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp (name, names[i]) == 0)
            return i;
    return -1;
}

//  The attribute lets clang check that fmt is a format (its callers'
//  attributes check their arguments against it).
static void s_vlog (hpo_log_level_t level, const char *suffix,
                    const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

static void
s_vlog (hpo_log_level_t level, const char *suffix, const char *fmt, va_list ap)
{
    if (level < s_level)
        return;
    char msg[2048];
    vsnprintf (msg, sizeof msg, fmt, ap);
    if (s_plain) {
        fprintf (stderr, "%s: %s%s%s\n", s_program, msg, suffix ? ": " : "",
                 suffix ? suffix : "");
        return;
    }
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    char stamp[32];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    //  One fprintf per line, so lines from threads never interleave.
    fprintf (stderr, "%s.%03dZ %s %s: %s%s%s\n", stamp,
             (int)(tv.tv_usec / 1000), s_names[level], s_program, msg,
             suffix ? ": " : "", suffix ? suffix : "");
}

void
hpo_log (hpo_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_vlog (level, NULL, fmt, ap);
    va_end (ap);
}

void
hpo_log_warn (const char *fmt, ...)
{
    const char *err = strerror (errno);
    va_list ap;
    va_start (ap, fmt);
    s_vlog (HPO_LOG_WARN, err, fmt, ap);
    va_end (ap);
}

void
hpo_fatal (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_vlog (HPO_LOG_ERROR, NULL, fmt, ap);
    va_end (ap);
    exit (1);
}

int
hpo_log_limit (hpo_log_limit_t *limit, int64_t now_ms, int64_t interval_ms)
{
    limit->count++;
    if (limit->logged && now_ms - limit->logged_at < interval_ms)
        return 0;
    limit->logged = 1;
    limit->logged_at = now_ms;
    return 1;
}
