/*  linepat.c: stdout lines matched for metrics (see linepat.h).          */
#include "linepat.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "names.h"

//  Bounds on one line's match: PCRE2's count of backtracking steps and
//  the memory (KiB) it may use. A sane pattern needs a small fraction of
//  either on a 64 KiB line; a pathological one stops here instead of
//  running for minutes.
#define S_MATCH_LIMIT 1000000
#define S_HEAP_LIMIT 8192

struct _hpo_linepat_t {
    pcre2_code *code; //  NULL: the default
    pcre2_match_data *data;
    pcre2_match_context *mctx;
    uint32_t n_names;
    uint32_t entry_size;
    PCRE2_SPTR table; //  the name table: 2 bytes group number, name, NUL
};

static int
s_is_step (const char *name, size_t len)
{
    return (len == 4 && !memcmp (name, "step", 4)) ||
           (len == 5 && !memcmp (name, "epoch", 5));
}

//  The named groups: at least one metric among them.
static int
s_check_names (hpo_linepat_t *self, char **error)
{
    pcre2_pattern_info (self->code, PCRE2_INFO_NAMECOUNT, &self->n_names);
    pcre2_pattern_info (self->code, PCRE2_INFO_NAMEENTRYSIZE,
                        &self->entry_size);
    pcre2_pattern_info (self->code, PCRE2_INFO_NAMETABLE, &self->table);
    int metrics = 0;
    for (uint32_t k = 0; k < self->n_names; k++) {
        const char *name = (const char *)self->table + k * self->entry_size + 2;
        if (!s_is_step (name, strlen (name)))
            metrics++;
    }
    if (metrics == 0) {
        *error = hpo_strdup ("has no named group for a metric, like "
                             "(?<val_loss>\\S+)");
        return -1;
    }
    return 0;
}

hpo_linepat_t *
hpo_linepat_new (const char *pattern, char **error)
{
    *error = NULL;
    hpo_linepat_t *self = hpo_calloc (1, sizeof *self);
    if (!pattern || !*pattern)
        return self;
    size_t len = strlen (pattern);
    if (len > HPO_LINEPAT_MAX) {
        *error = hpo_sprintf ("longer than %d bytes", HPO_LINEPAT_MAX);
        hpo_linepat_destroy (&self);
        return NULL;
    }
    int code;
    PCRE2_SIZE offset;
    self->code = pcre2_compile ((PCRE2_SPTR)pattern, len,
                                PCRE2_NEVER_UTF | PCRE2_NEVER_UCP |
                                    PCRE2_NEVER_BACKSLASH_C,
                                &code, &offset, NULL);
    if (!self->code) {
        PCRE2_UCHAR text[256];
        pcre2_get_error_message (code, text, sizeof text);
        *error = hpo_sprintf ("at offset %zu: %s", (size_t)offset,
                              (const char *)text);
        hpo_linepat_destroy (&self);
        return NULL;
    }
    if (s_check_names (self, error) < 0) {
        hpo_linepat_destroy (&self);
        return NULL;
    }
    self->data = pcre2_match_data_create_from_pattern (self->code, NULL);
    self->mctx = pcre2_match_context_create (NULL);
    if (!self->data || !self->mctx)
        abort (); //  out of memory, as hpo_malloc does
    pcre2_set_match_limit (self->mctx, S_MATCH_LIMIT);
    pcre2_set_heap_limit (self->mctx, S_HEAP_LIMIT);
    return self;
}

void
hpo_linepat_destroy (hpo_linepat_t **self_p)
{
    hpo_linepat_t *self = *self_p;
    if (!self)
        return;
    pcre2_match_context_free (self->mctx);
    pcre2_match_data_free (self->data);
    pcre2_code_free (self->code);
    free (self);
    *self_p = NULL;
}

int
hpo_linepat_is_default (const hpo_linepat_t *self)
{
    return self->code == NULL;
}

int
hpo_linepat_has (const hpo_linepat_t *self, const char *name)
{
    if (!self->code)
        return 1;
    for (uint32_t k = 0; k < self->n_names; k++)
        if (!strcmp ((const char *)self->table + k * self->entry_size + 2,
                     name))
            return 1;
    return 0;
}

static int
s_is_sep (char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '\r' ||
           c == '\n';
}

//  The default: NAME=VALUE words.
static int
s_match_words (const char *line, size_t len, hpo_linepat_fn_t *fn, void *arg)
{
    int n = 0;
    size_t at = 0;
    while (at < len) {
        while (at < len && s_is_sep (line[at]))
            at++;
        size_t start = at;
        while (at < len && !s_is_sep (line[at]))
            at++;
        const char *word = line + start;
        const char *eq = memchr (word, '=', at - start);
        if (!eq || eq == word || eq + 1 == line + at)
            continue;
        size_t name_len = (size_t)(eq - word);
        if (hpo_name_metric_problem (word, name_len))
            continue;
        if (fn (arg, word, name_len, eq + 1, (size_t)(line + at - eq - 1)))
            return -1;
        n++;
    }
    return n;
}

int
hpo_linepat_match (hpo_linepat_t *self, const char *line, size_t len,
                   hpo_linepat_fn_t *fn, void *arg, char **reason)
{
    *reason = NULL;
    if (!self->code)
        return s_match_words (line, len, fn, arg);
    int rc = pcre2_match (self->code, (PCRE2_SPTR)line, len, 0, 0, self->data,
                          self->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR text[256];
        pcre2_get_error_message (rc, text, sizeof text);
        *reason = hpo_sprintf ("pattern: %s", (const char *)text);
        return -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer (self->data);
    int n = 0;
    for (uint32_t k = 0; k < self->n_names; k++) {
        PCRE2_SPTR entry = self->table + k * self->entry_size;
        uint32_t group = ((uint32_t)entry[0] << 8) | entry[1];
        if ((int)group >= rc || ov[2 * group] == PCRE2_UNSET)
            continue; //  took no part in the match
        const char *name = (const char *)entry + 2;
        if (fn (arg, name, strlen (name), line + ov[2 * group],
                ov[2 * group + 1] - ov[2 * group]))
            return -1;
        n++;
    }
    return n;
}
