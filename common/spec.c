/*  spec.c: study files, parsed with libfyaml and validated by hand.

    libfyaml gives us a node tree with the source position of every scalar.
    We never let it type scalars for us: a value is a number only when it
    is written as a plain (unquoted, untagged) YAML 1.2 number, so "1e-3"
    in quotes stays a string whatever schema a library would apply. Each
    mapping is read against a table of the keys it may hold, so a misspelt
    key is an error instead of a silently ignored setting.                 */
#include "spec.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "linepat.h"
#include "mem.h"
#include "names.h"
#include "../search/space.h"
#include "utf8.h"

//  Int parameters keep low and high as doubles too; beyond 2^53 a double
//  no longer holds every integer.
#define S_INT_LIMIT 9007199254740992LL
#define S_PATH_MAX 256
//  Options one sampler or pruner may take besides type.
#define S_MAX_SEARCH_KEYS 16
#define S_DEFAULT_GRACE_MS 10000
//  Attempts lost to the worker (it died, went silent, was stopped) that
//  are re-run before the trial fails: issue #9.
#define S_DEFAULT_MAX_LOST 3
//  A study whose first five trials all failed is broken, not unlucky:
//  it stops itself rather than burn its whole budget on the same error.
#define S_DEFAULT_FAIL_FAST 5

typedef struct {
    const char *file;
    const char *text; //  the study file, which marks index
    size_t len;
    char *error;  //  the first error found
    char *diag;   //  libfyaml's last unstructured message
    char **owned; //  scalars decoded here, freed with the context
    size_t n_owned;
} s_ctx_t;

//  A value as found in a mapping, with where to point when it is wrong.
typedef struct {
    const char *key;
    struct fy_node *value; //  NULL when absent
    bool present;
    int line;              //  the key's line; the mapping's if absent
    char path[S_PATH_MAX]; //  "space.lr.low"
} s_field_t;

static int s_fail (s_ctx_t *ctx, int line, const char *path, const char *fmt,
                   ...) __attribute__ ((format (printf, 4, 5)));

static int
s_fail (s_ctx_t *ctx, int line, const char *path, const char *fmt, ...)
{
    //  Later failures are usually consequences of the first; keep that one.
    if (ctx->error)
        return -1;
    va_list ap;
    va_start (ap, fmt);
    char *msg = hpo_vsprintf (fmt, ap);
    va_end (ap);
    if (line < 1)
        line = 1;
    if (path && *path)
        ctx->error = hpo_sprintf ("%s:%d: %s: %s", ctx->file, line, path, msg);
    else
        ctx->error = hpo_sprintf ("%s:%d: %s", ctx->file, line, msg);
    free (msg);
    return -1;
}

//  The 1-based line where node starts. libfyaml 0.7 keeps positions on
//  tokens, which only scalars expose, so a collection is placed at its
//  first scalar; an empty one (or a synthetic empty value) at fallback.
static int
s_line (struct fy_node *node, int fallback)
{
    if (!node)
        return fallback;
    if (fy_node_is_scalar (node)) {
        struct fy_token *token = fy_node_get_scalar_token (node);
        const struct fy_mark *mark = token ? fy_token_start_mark (token) : NULL;
        return mark ? mark->line + 1 : fallback;
    }
    void *iter = NULL;
    if (fy_node_is_mapping (node)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate (node, &iter);
        return pair ? s_line (fy_node_pair_key (pair), fallback) : fallback;
    }
    struct fy_node *item = fy_node_sequence_iterate (node, &iter);
    return item ? s_line (item, fallback) : fallback;
}

//  Where to point at a field's value: the value itself when it has a
//  position, else its key.
static int
s_vline (const s_field_t *f)
{
    return s_line (f->value, f->line);
}

//  Appends n bytes of s to the path in buf, cutting at S_PATH_MAX: paths
//  are only ever shown to people, and a cut one still says where to look.
static void
s_path_append (char *buf, const char *s, size_t n)
{
    size_t len = strlen (buf);
    if (n > S_PATH_MAX - 1 - len)
        n = S_PATH_MAX - 1 - len;
    memcpy (buf + len, s, n);
    buf[len + n] = 0;
}

//  buf = parent.key
static void
s_path (char *buf, const char *parent, const char *key, size_t key_len)
{
    buf[0] = 0;
    s_path_append (buf, parent, strlen (parent));
    if (*parent)
        s_path_append (buf, ".", 1);
    s_path_append (buf, key, key_len);
}

//  buf = parent[index]
static void
s_path_index (char *buf, const char *parent, size_t index)
{
    char suffix[32];
    int n = snprintf (suffix, sizeof suffix, "[%zu]", index);
    buf[0] = 0;
    s_path_append (buf, parent, strlen (parent));
    s_path_append (buf, suffix, (size_t)n);
}

// ---------------------------------------------------------------------
//  Scalars

static bool
s_white (char c)
{
    return c == ' ' || c == '\t';
}

//  The value of a single-quoted scalar whose text between the quotes is
//  raw (n bytes): each line break folds to a space, or to n newlines when
//  n empty lines follow it; white space around a break goes; '' is '.
//  Returns a malloc'd, NUL-terminated string of *len bytes.
static char *
s_single_quoted (const char *raw, size_t n, size_t *len)
{
    char *out = hpo_malloc (n + 1);
    size_t o = 0, k = 0, empties = 0;
    for (bool first = true;; first = false) {
        size_t end = k;
        while (end < n && raw[end] != '\n' && raw[end] != '\r')
            end++;
        bool last = end == n;
        size_t s = k, t = end;
        if (!first)
            while (s < t && s_white (raw[s]))
                s++;
        if (!last)
            while (t > s && s_white (raw[t - 1]))
                t--;
        if (!first && s == t && !last)
            empties++;
        else {
            if (!first) {
                if (empties == 0)
                    out[o++] = ' ';
                for (; empties > 0; empties--)
                    out[o++] = '\n';
            }
            //  '' is the only escape, and never spans a line.
            for (size_t j = s; j < t; j++) {
                out[o++] = raw[j];
                if (raw[j] == '\'' && j + 1 < t && raw[j + 1] == '\'')
                    j++;
            }
        }
        if (last)
            break;
        k = end +
            (raw[end] == '\r' && end + 1 < n && raw[end + 1] == '\n' ? 2 : 1);
    }
    out[o] = 0;
    *len = o;
    return out;
}

//  A scalar's text, or NULL if node is no scalar. The text of a single-
//  quoted scalar ends in a NUL; others' may not.
//  libfyaml 0.7 builds the text of a single-quoted scalar wrongly when
//  its escapes meet ('x''''y' reads as x''' instead of x''y), and leaks
//  what it allocated doing so; those are decoded here from the file's
//  text instead. The decoded text lives as long as ctx.
static const char *
s_scalar (s_ctx_t *ctx, struct fy_node *node, size_t *len)
{
    *len = 0;
    if (!node || !fy_node_is_scalar (node))
        return NULL;
    if (fy_node_get_style (node) != FYNS_SINGLE_QUOTED)
        return fy_node_get_scalar (node, len);
    struct fy_token *token = fy_node_get_scalar_token (node);
    const struct fy_mark *start = token ? fy_token_start_mark (token) : NULL;
    const struct fy_mark *end = token ? fy_token_end_mark (token) : NULL;
    //  The marks hold the text between the quotes.
    if (!start || !end || start->input_pos < 1 ||
        end->input_pos < start->input_pos || end->input_pos >= ctx->len ||
        ctx->text[start->input_pos - 1] != '\'' ||
        ctx->text[end->input_pos] != '\'') {
        //  Not expected; libfyaml's reading, NUL-terminated like ours.
        const char *text = fy_node_get_scalar0 (node);
        *len = text ? strlen (text) : 0;
        return text;
    }
    char *text = s_single_quoted (ctx->text + start->input_pos,
                                  end->input_pos - start->input_pos, len);
    ctx->owned = hpo_realloc (ctx->owned, (ctx->n_owned + 1) * sizeof (char *));
    ctx->owned[ctx->n_owned++] = text;
    return text;
}

//  Plain scalars that YAML 1.2 reads as null.
static bool
s_is_null_text (const char *text)
{
    return !*text || !strcmp (text, "~") || !strcmp (text, "null") ||
           !strcmp (text, "Null") || !strcmp (text, "NULL");
}

//  YAML 1.2 core schema ints: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+.
//  Returns 1 and sets *out, 0 if text is not an int, -1 if it is one but
//  does not fit in 64 bits.
static int
s_parse_int (const char *text, int64_t *out)
{
    int base = 10;
    const char *digits = text;
    if (text[0] == '0' && (text[1] == 'o' || text[1] == 'x')) {
        base = text[1] == 'o' ? 8 : 16;
        digits = text + 2;
    } else if (*text == '-' || *text == '+')
        digits = text + 1;
    if (!*digits)
        return 0;
    for (const char *p = digits; *p; p++) {
        bool ok = base == 10 ? (*p >= '0' && *p <= '9')
                  : base == 8
                      ? (*p >= '0' && *p <= '7')
                      : ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                         (*p >= 'A' && *p <= 'F'));
        if (!ok)
            return 0;
    }
    errno = 0;
    if (base == 10) {
        long long v = strtoll (text, NULL, 10);
        if (errno == ERANGE)
            return -1;
        *out = v;
    } else {
        unsigned long long v = strtoull (digits, NULL, base);
        if (errno == ERANGE || v > INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 1;
}

//  YAML 1.2 core schema floats, which include every JSON number:
//  [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, [-+]?.inf, .nan.
//  Returns 1 and sets *out (possibly infinite or NaN), or 0.
static int
s_parse_float (const char *text, double *out)
{
    const char *p = text;
    if (*p == '-' || *p == '+')
        p++;
    static const char *specials[] = {".inf", ".Inf", ".INF"};
    for (int k = 0; k < 3; k++)
        if (!strcmp (p, specials[k])) {
            *out = *text == '-' ? -INFINITY : INFINITY;
            return 1;
        }
    if (p == text &&
        (!strcmp (p, ".nan") || !strcmp (p, ".NaN") || !strcmp (p, ".NAN"))) {
        *out = NAN;
        return 1;
    }
    size_t int_digits = strspn (p, "0123456789");
    p += int_digits;
    size_t frac_digits = 0;
    if (*p == '.') {
        p++;
        frac_digits = strspn (p, "0123456789");
        p += frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        size_t exp_digits = strspn (p, "0123456789");
        if (exp_digits == 0)
            return 0;
        p += exp_digits;
    }
    if (*p)
        return 0;
    //  The form is checked, so strtod reads exactly this; a value too
    //  large comes back as HUGE_VAL, which callers reject as not finite.
    *out = strtod (text, NULL);
    return 1;
}

//  Reads a scalar's text. *typed says whether its YAML form lets it be a
//  number, bool or null (plain, no tag); "!!str 1" and '1' are strings.
//  Returns 0, or -1 after reporting why the node is no usable scalar.
static int
s_get_text (s_ctx_t *ctx, const s_field_t *f, const char *what,
            const char **text, bool *typed)
{
    //  Set on every path, failures included: callers return at once on
    //  failure, but gcc -O3 cannot see that through s_fail.
    *text = "";
    *typed = false;
    struct fy_node *node = f->value;
    if (!node) {
        *text = "";
        *typed = true;
        return 0;
    }
    if (!fy_node_is_scalar (node))
        return s_fail (ctx, s_vline (f), f->path, "must be %s", what);
    *typed = fy_node_get_style (node) == FYNS_PLAIN;
    size_t tag_len = 0;
    const char *tag = fy_node_get_tag (node, &tag_len);
    if (tag) {
        static const char str_tag[] = "tag:yaml.org,2002:str";
        if (tag_len == strlen (str_tag) && !memcmp (tag, str_tag, tag_len))
            *typed = false;
        else
            return s_fail (ctx, s_vline (f), f->path, "unsupported tag %.*s",
                           (int)(tag_len > 40 ? 40 : tag_len), tag);
    }
    size_t len = 0;
    const char *raw = s_scalar (ctx, node, &len);
    if (!raw)
        raw = "";
    //  Our strings are C strings; a NUL would silently cut one short.
    if (memchr (raw, 0, len))
        return s_fail (ctx, s_vline (f), f->path, "must not contain NUL");
    //  s_scalar's own text ends in a NUL; libfyaml's may not.
    *text = fy_node_get_style (node) == FYNS_SINGLE_QUOTED
                ? raw
                : fy_node_get_scalar0 (node);
    if (!*text)
        abort (); //  libfyaml fails here only when out of memory
    return 0;
}

static bool
s_is_null (struct fy_node *node)
{
    if (!node)
        return true;
    if (!fy_node_is_scalar (node) || fy_node_get_style (node) != FYNS_PLAIN)
        return false;
    size_t tag_len = 0;
    if (fy_node_get_tag (node, &tag_len))
        return false;
    size_t len = 0;
    const char *raw = fy_node_get_scalar (node, &len);
    if (!raw || len == 0)
        return true;
    return (len == 1 && raw[0] == '~') ||
           (len == 4 && (!memcmp (raw, "null", 4) || !memcmp (raw, "Null", 4) ||
                         !memcmp (raw, "NULL", 4)));
}

//  Any scalar but null, as a string: "name: 123" names study "123".
static int
s_get_string (s_ctx_t *ctx, const s_field_t *f, const char **out)
{
    bool typed;
    if (s_get_text (ctx, f, "a string", out, &typed))
        return -1;
    if (typed && s_is_null_text (*out))
        return s_fail (ctx, s_vline (f), f->path, "must be a string");
    return 0;
}

static int
s_get_bool (s_ctx_t *ctx, const s_field_t *f, int *out)
{
    const char *text;
    bool typed;
    if (s_get_text (ctx, f, "true or false", &text, &typed))
        return -1;
    if (typed && (!strcmp (text, "true") || !strcmp (text, "True") ||
                  !strcmp (text, "TRUE")))
        *out = 1;
    else if (typed && (!strcmp (text, "false") || !strcmp (text, "False") ||
                       !strcmp (text, "FALSE")))
        *out = 0;
    else
        return s_fail (ctx, s_vline (f), f->path, "must be true or false");
    return 0;
}

//  An integer in [min, max]; what says what kind ("a positive integer").
static int
s_get_int_in (s_ctx_t *ctx, const s_field_t *f, int64_t min, int64_t max,
              const char *what, int64_t *out)
{
    const char *text;
    bool typed;
    if (s_get_text (ctx, f, what, &text, &typed))
        return -1;
    int rc = typed ? s_parse_int (text, out) : 0;
    if (rc == 0)
        return s_fail (ctx, s_vline (f), f->path, "must be %s", what);
    if (rc < 0 || *out > max)
        return s_fail (ctx, s_vline (f), f->path, "is out of range");
    if (*out < min)
        return s_fail (ctx, s_vline (f), f->path, "must be %s", what);
    return 0;
}

static int
s_get_number (s_ctx_t *ctx, const s_field_t *f, double *out)
{
    const char *text;
    bool typed;
    if (s_get_text (ctx, f, "a number", &text, &typed))
        return -1;
    int64_t i;
    int rc = typed ? s_parse_int (text, &i) : 0;
    if (rc == 1)
        *out = (double)i;
    else if (!typed || !s_parse_float (text, out))
        return s_fail (ctx, s_vline (f), f->path, "must be a number");
    if (!isfinite (*out))
        return s_fail (ctx, s_vline (f), f->path, "must be a finite number");
    return 0;
}

//  Any scalar, typed by its YAML form: a plain integer is an int, a plain
//  finite number a float, anything else (quoted, tagged, true) a string
//  of its text. *null says whether it was a plain null, kept as a string.
static int
s_get_scalar (s_ctx_t *ctx, const s_field_t *f, hpo_value_t *v, bool *null)
{
    const char *text;
    bool typed;
    *v = (hpo_value_t){.kind = HPO_KIND_STR};
    *null = false;
    if (s_get_text (ctx, f, "a scalar", &text, &typed))
        return -1;
    *null = typed && s_is_null_text (text);
    if (typed && s_parse_int (text, &v->i) == 1) {
        v->kind = HPO_KIND_INT;
        v->f = (double)v->i;
    } else if (typed && s_parse_float (text, &v->f) && isfinite (v->f))
        v->kind = HPO_KIND_FLOAT;
    else {
        v->f = 0;
        v->s = hpo_strdup (text);
    }
    return 0;
}

static int
s_get_duration (s_ctx_t *ctx, const s_field_t *f, uint64_t *ms)
{
    static const char *what = "a duration (like 90s, 30m, 2h)";
    const char *text;
    bool typed;
    if (s_get_text (ctx, f, what, &text, &typed))
        return -1;
    if (hpo_duration_parse (text, ms))
        return s_fail (ctx, s_vline (f), f->path, "must be %s", what);
    return 0;
}

// ---------------------------------------------------------------------
//  Mappings

//  Optimal string alignment distance between short keys: edits are
//  inserting, deleting or changing a byte, or swapping two neighbours,
//  the commonest typo ("lgo" is one edit from "log", two from "low").
//  Capped: anything over 2 edits is "far" and the exact figure does not
//  matter.
static size_t
s_distance (const char *a, size_t la, const char *b)
{
    size_t lb = strlen (b);
    if (la > 32 || lb > 32)
        return 3;
    //  Three rows of the table: two back, one back, this one.
    size_t rows[3][33];
    size_t *prev2 = rows[0], *prev = rows[1], *row = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            row[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = row;
        row = t;
    }
    return prev[lb];
}

//  The one allowed key a misspelt key most likely meant, or NULL.
static const char *
s_nearest (const char *key, size_t len, const s_field_t *fields, size_t n)
{
    const char *best = NULL;
    size_t best_distance = 3;
    for (size_t k = 0; k < n; k++) {
        size_t d = s_distance (key, len, fields[k].key);
        if (d < best_distance) {
            best_distance = d;
            best = fields[k].key;
        }
    }
    return best;
}

//  Reads mapping parent->value against the n keys named in fields, filling
//  each field's value and position. Any other key is an error.
static int
s_fields (s_ctx_t *ctx, const s_field_t *parent, s_field_t *fields, size_t n)
{
    struct fy_node *map = parent->value;
    int map_line = s_vline (parent);
    for (size_t k = 0; k < n; k++) {
        fields[k].value = NULL;
        fields[k].present = false;
        //  A missing key is reported where its mapping's key stands.
        fields[k].line = parent->line;
        s_path (fields[k].path, parent->path, fields[k].key,
                strlen (fields[k].key));
    }
    if (!map || !fy_node_is_mapping (map)) {
        if (!*parent->path)
            return s_fail (ctx, map_line, NULL,
                           "a study file must be a mapping");
        return s_fail (ctx, map_line, parent->path, "must be a mapping");
    }
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate (map, &iter))) {
        struct fy_node *key = fy_node_pair_key (pair);
        int key_line = s_line (key, map_line);
        size_t len = 0;
        const char *text = s_scalar (ctx, key, &len);
        if (!text)
            return s_fail (ctx, key_line, parent->path, "keys must be strings");
        s_field_t *field = NULL;
        for (size_t k = 0; k < n && !field; k++)
            if (strlen (fields[k].key) == len &&
                !memcmp (fields[k].key, text, len))
                field = &fields[k];
        if (!field) {
            char path[S_PATH_MAX];
            s_path (path, parent->path, text, len > 64 ? 64 : len);
            const char *near = s_nearest (text, len, fields, n);
            if (near)
                return s_fail (ctx, key_line, path,
                               "unknown key (did you mean %s?)", near);
            return s_fail (ctx, key_line, path, "unknown key");
        }
        //  libfyaml's own check is off (s_load).
        if (field->present)
            return s_fail (ctx, key_line, field->path, "duplicate key");
        field->value = fy_node_pair_value (pair);
        field->present = true;
        field->line = key_line;
    }
    return 0;
}

//  An optional mapping (sampler, pruner, budget, trial) may be absent or
//  null; either way its keys read as absent.
static int
s_optional_fields (s_ctx_t *ctx, const s_field_t *parent, s_field_t *fields,
                   size_t n)
{
    if (s_is_null (parent->value)) {
        for (size_t k = 0; k < n; k++) {
            fields[k].value = NULL;
            fields[k].present = false;
            fields[k].line = parent->line;
            s_path (fields[k].path, parent->path, fields[k].key,
                    strlen (fields[k].key));
        }
        return 0;
    }
    return s_fields (ctx, parent, fields, n);
}

static int
s_missing (s_ctx_t *ctx, const s_field_t *f)
{
    return s_fail (ctx, f->line, f->path, "missing");
}

// ---------------------------------------------------------------------
//  Parameters

typedef struct {
    char *text;
    size_t index;
} s_formatted_t;

static int
s_formatted_cmp (const void *a, const void *b)
{
    const s_formatted_t *x = a, *y = b;
    int rc = strcmp (x->text, y->text);
    if (rc)
        return rc;
    return x->index < y->index ? -1 : x->index > y->index;
}

//  Two values that print alike would be the same trial twice: on the
//  command line 1, 1.0 and "1" are all "1". Sorting keeps long lists fast.
static int
s_check_unique (s_ctx_t *ctx, const s_field_t *f, hpo_param_spec_t *p,
                const int *lines)
{
    s_formatted_t *all = hpo_calloc (p->n_values, sizeof *all);
    for (size_t k = 0; k < p->n_values; k++) {
        all[k].text = hpo_value_format (&p->values[k]);
        all[k].index = k;
    }
    qsort (all, p->n_values, sizeof *all, s_formatted_cmp);
    size_t dup = SIZE_MAX;
    for (size_t k = 1; k < p->n_values; k++)
        if (!strcmp (all[k - 1].text, all[k].text) &&
            (dup == SIZE_MAX || all[k].index < dup))
            dup = all[k].index;
    for (size_t k = 0; k < p->n_values; k++)
        free (all[k].text);
    free (all);
    if (dup == SIZE_MAX)
        return 0;
    char path[S_PATH_MAX];
    s_path_index (path, f->path, dup);
    return s_fail (ctx, lines[dup], path, "duplicate value");
}

//  Reads a values list into p->values, each typed for a parameter of p's
//  type: a categorical's by its YAML form, a float's or int's as such.
static int
s_parse_values (s_ctx_t *ctx, const s_field_t *f, hpo_param_spec_t *p)
{
    struct fy_node *seq = f->value;
    if (!seq || !fy_node_is_sequence (seq))
        return s_fail (ctx, s_vline (f), f->path, "must be a list");
    int count = fy_node_sequence_item_count (seq);
    if (count <= 0)
        return s_fail (ctx, s_vline (f), f->path, "must not be empty");
    if (count > HPO_SPEC_MAX_VALUES)
        return s_fail (ctx, s_vline (f), f->path,
                       "has %d values; at most %d are allowed", count,
                       HPO_SPEC_MAX_VALUES);
    p->values = hpo_calloc ((size_t)count, sizeof (hpo_value_t));
    int *lines = hpo_calloc ((size_t)count, sizeof (int));
    int rc = 0;
    void *iter = NULL;
    struct fy_node *item;
    while (rc == 0 && (item = fy_node_sequence_iterate (seq, &iter))) {
        s_field_t at = {.value = item, .present = true, .line = f->line};
        s_path_index (at.path, f->path, p->n_values);
        hpo_value_t *v = &p->values[p->n_values];
        lines[p->n_values] = s_vline (&at);
        if (p->type == HPO_PARAM_FLOAT) {
            v->kind = HPO_KIND_FLOAT;
            rc = s_get_number (ctx, &at, &v->f);
        } else if (p->type == HPO_PARAM_INT) {
            v->kind = HPO_KIND_INT;
            rc = s_get_int_in (ctx, &at, -S_INT_LIMIT, S_INT_LIMIT,
                               "an integer", &v->i);
            v->f = (double)v->i;
        } else {
            bool null;
            rc = s_get_scalar (ctx, &at, v, &null);
            if (rc == 0 && null) {
                hpo_values_clear (v, 1);
                rc = s_fail (ctx, lines[p->n_values], at.path,
                             "must not be null");
            }
        }
        if (rc == 0)
            p->n_values++;
    }
    if (rc == 0)
        rc = s_check_unique (ctx, f, p, lines);
    free (lines);
    if (rc == 0 && p->type != HPO_PARAM_CATEGORICAL) {
        p->low = p->high = p->values[0].f;
        for (size_t k = 1; k < p->n_values; k++) {
            p->low = fmin (p->low, p->values[k].f);
            p->high = fmax (p->high, p->values[k].f);
        }
    }
    return rc;
}

enum {
    F_TYPE,
    F_LOW,
    F_HIGH,
    F_LOG,
    F_STEP,
    F_VALUES,
    F_POINTS,
    F_WHEN,
    F_GRID,
    F_PARAM_KEYS
};

//  low, high, log and step of a float or int range.
static int
s_parse_range (s_ctx_t *ctx, s_field_t *f, hpo_param_spec_t *p)
{
    bool is_int = p->type == HPO_PARAM_INT;
    for (int k = F_LOW; k <= F_HIGH; k++)
        if (!f[k].present)
            return s_missing (ctx, &f[k]);
    if (is_int) {
        int64_t low, high;
        if (s_get_int_in (ctx, &f[F_LOW], -S_INT_LIMIT, S_INT_LIMIT,
                          "an integer", &low) ||
            s_get_int_in (ctx, &f[F_HIGH], -S_INT_LIMIT, S_INT_LIMIT,
                          "an integer", &high))
            return -1;
        if (high < low)
            return s_fail (ctx, s_vline (&f[F_HIGH]), f[F_HIGH].path,
                           "must not be less than low");
        p->low = (double)low;
        p->high = (double)high;
    } else {
        if (s_get_number (ctx, &f[F_LOW], &p->low) ||
            s_get_number (ctx, &f[F_HIGH], &p->high))
            return -1;
        if (!(p->high > p->low))
            return s_fail (ctx, s_vline (&f[F_HIGH]), f[F_HIGH].path,
                           "must be greater than low");
    }
    if (f[F_LOG].present && s_get_bool (ctx, &f[F_LOG], &p->log))
        return -1;
    if (p->log && p->low <= 0)
        return s_fail (ctx, s_vline (&f[F_LOW]), f[F_LOW].path,
                       "must be positive when log is true");
    if (f[F_STEP].present) {
        if (p->log)
            return s_fail (ctx, f[F_STEP].line, f[F_STEP].path,
                           "cannot be combined with log");
        if (is_int) {
            int64_t step;
            if (s_get_int_in (ctx, &f[F_STEP], 1, S_INT_LIMIT,
                              "a positive integer", &step))
                return -1;
            p->step = (double)step;
        } else {
            if (s_get_number (ctx, &f[F_STEP], &p->step))
                return -1;
            if (!(p->step > 0))
                return s_fail (ctx, s_vline (&f[F_STEP]), f[F_STEP].path,
                               "must be positive");
        }
        p->has_step = 1;
    }
    return 0;
}

//  Builds p's values lookup (hpo_param_value_index): conditions and
//  grid points look values up per row, and a list may hold 10,000.
static void
s_index_values (hpo_param_spec_t *p)
{
    size_t cap = 4;
    while (cap < 2 * p->n_values)
        cap *= 2;
    p->value_slots = hpo_calloc (cap, sizeof (uint32_t));
    p->n_value_slots = cap;
    for (size_t k = 0; k < p->n_values; k++) {
        size_t i = (size_t)hpo_space_row_hash (&p->values[k], 1) & (cap - 1);
        while (p->value_slots[i])
            i = (i + 1) & (cap - 1);
        p->value_slots[i] = (uint32_t)k + 1;
    }
}

//  points: N on a range: N points from low to high, evenly spaced in
//  log space when log is true, written out as the parameter's values
//  (ints rounded, repeats dropped), so every sampler and the grid see
//  the same finite set.
static int
s_parse_points (s_ctx_t *ctx, const s_field_t *f, hpo_param_spec_t *p)
{
    int64_t n;
    if (s_get_int_in (ctx, f, 2, HPO_SPEC_MAX_VALUES,
                      "an integer from 2 to 10000", &n))
        return -1;
    bool is_int = p->type == HPO_PARAM_INT;
    double a = p->log ? log (p->low) : p->low;
    double b = p->log ? log (p->high) : p->high;
    p->values = hpo_calloc ((size_t)n, sizeof (hpo_value_t));
    for (int64_t k = 0; k < n; k++) {
        double x = a + (b - a) * (double)k / (double)(n - 1);
        x = p->log ? exp (x) : x;
        //  The ends exactly, whatever exp (log (x)) made of them.
        x = k == 0 ? p->low : k == n - 1 ? p->high : hpo_search_tidy (x);
        hpo_value_t v = {.kind = HPO_KIND_FLOAT, .f = x};
        if (is_int) {
            v.kind = HPO_KIND_INT;
            v.i = (int64_t)round (x);
            v.f = (double)v.i;
        }
        //  Increasing in k, so a repeat (ints rounded together) is the
        //  last one kept.
        if (p->n_values == 0 || p->values[p->n_values - 1].f != v.f)
            p->values[p->n_values++] = v;
    }
    return 0;
}

//  One value of a when: condition, checked against the parameter it
//  names (which must be able to take it).
static int
s_parse_when_value (s_ctx_t *ctx, const s_field_t *f,
                    const hpo_param_spec_t *target, hpo_value_t *v)
{
    bool null;
    if (s_get_scalar (ctx, f, v, &null))
        return -1;
    int ok = 0;
    if (target->values)
        ok = hpo_param_value_index (target, v) >= 0;
    else if (target->type == HPO_PARAM_INT && v->kind == HPO_KIND_INT) {
        int64_t step = target->has_step ? (int64_t)target->step : 1;
        ok = v->f >= target->low && v->f <= target->high &&
             (v->i - (int64_t)target->low) % step == 0;
    }
    if (ok)
        return 0;
    char *text = hpo_value_format (v);
    hpo_values_clear (v, 1);
    s_fail (ctx, s_vline (f), f->path, "%s is not a value %s can take", text,
            target->name);
    free (text);
    return -1;
}

//  when: {PARAM: VALUE} or {PARAM: [VALUES]}: parameter k exists only
//  when PARAM, declared before it, has one of the values.
static int
s_parse_when (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self, size_t k)
{
    hpo_param_spec_t *p = &self->params[k];
    struct fy_node *map = f->value;
    if (!map || !fy_node_is_mapping (map) ||
        fy_node_mapping_item_count (map) != 1)
        return s_fail (ctx, s_vline (f), f->path,
                       "must be a mapping of one parameter to a value or a "
                       "list of values, like {opt: sgd}");
    void *iter = NULL;
    struct fy_node_pair *pair = fy_node_mapping_iterate (map, &iter);
    s_field_t at = {.value = fy_node_pair_value (pair), .present = true};
    size_t len = 0;
    const char *name = s_scalar (ctx, fy_node_pair_key (pair), &len);
    at.line = s_line (fy_node_pair_key (pair), f->line);
    if (!name)
        return s_fail (ctx, at.line, f->path, "keys must be strings");
    s_path (at.path, f->path, name, len > 64 ? 64 : len);
    int target = -1;
    for (size_t j = 0; j < self->n_params && target < 0; j++)
        if (strlen (self->params[j].name) == len &&
            !memcmp (self->params[j].name, name, len))
            target = (int)j;
    if (target < 0)
        return s_fail (ctx, at.line, at.path, "no such parameter");
    if ((size_t)target == k)
        return s_fail (ctx, at.line, at.path,
                       "a parameter cannot depend on itself");
    if ((size_t)target > k)
        return s_fail (ctx, at.line, at.path,
                       "must be declared earlier in the space than %s",
                       p->name);
    const hpo_param_spec_t *t = &self->params[target];
    if (!t->values && t->type != HPO_PARAM_INT)
        return s_fail (ctx, at.line, at.path,
                       "a condition needs a categorical, an int, or a float "
                       "with values or points");
    p->when_param = target;
    if (!fy_node_is_sequence (at.value)) {
        p->when_values = hpo_calloc (1, sizeof (hpo_value_t));
        if (s_parse_when_value (ctx, &at, t, &p->when_values[0]))
            return -1;
        p->n_when_values = 1;
        return 0;
    }
    int count = fy_node_sequence_item_count (at.value);
    if (count <= 0)
        return s_fail (ctx, s_vline (&at), at.path, "must not be empty");
    if (count > HPO_SPEC_MAX_VALUES)
        return s_fail (ctx, s_vline (&at), at.path,
                       "has %d values; at most %d are allowed", count,
                       HPO_SPEC_MAX_VALUES);
    p->when_values = hpo_calloc ((size_t)count, sizeof (hpo_value_t));
    iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate (at.value, &iter))) {
        s_field_t v = {.value = item, .present = true, .line = at.line};
        s_path_index (v.path, at.path, p->n_when_values);
        if (s_parse_when_value (ctx, &v, t, &p->when_values[p->n_when_values]))
            return -1;
        p->n_when_values++;
    }
    return 0;
}

//  grid: true (hybrid search): the parameter is swept, so it needs a
//  finite set of points, and exists in every trial.
static int
s_parse_grid (s_ctx_t *ctx, const s_field_t *f, const s_field_t *when,
              hpo_param_spec_t *p)
{
    if (s_get_bool (ctx, f, &p->grid))
        return -1;
    if (!p->grid)
        return 0;
    if (when->present)
        return s_fail (ctx, f->line, f->path,
                       "cannot be combined with when: every grid point gets "
                       "its share of trials, so a grid parameter must exist "
                       "in every trial");
    if (hpo_param_grid_count (p) == 0)
        return s_fail (ctx, f->line, f->path,
                       "needs a finite set of points: values, an int range, "
                       "a float with step, or points");
    return 0;
}

//  The range or values of a float or int, with points.
static int
s_parse_numeric (s_ctx_t *ctx, s_field_t *f, hpo_param_spec_t *p)
{
    if (f[F_VALUES].present) {
        for (int k = F_LOW; k <= F_POINTS; k++)
            if (k != F_VALUES && f[k].present)
                return s_fail (ctx, f[k].line, f[k].path,
                               "cannot be combined with values");
        return s_parse_values (ctx, &f[F_VALUES], p);
    }
    if (s_parse_range (ctx, f, p))
        return -1;
    if (!f[F_POINTS].present)
        return 0;
    if (f[F_STEP].present)
        return s_fail (ctx, f[F_POINTS].line, f[F_POINTS].path,
                       "cannot be combined with step");
    return s_parse_points (ctx, &f[F_POINTS], p);
}

static int
s_parse_param (s_ctx_t *ctx, const s_field_t *pf, hpo_spec_t *self, size_t k)
{
    hpo_param_spec_t *p = &self->params[k];
    s_field_t f[F_PARAM_KEYS] = {
        [F_TYPE] = {.key = "type"},     [F_LOW] = {.key = "low"},
        [F_HIGH] = {.key = "high"},     [F_LOG] = {.key = "log"},
        [F_STEP] = {.key = "step"},     [F_VALUES] = {.key = "values"},
        [F_POINTS] = {.key = "points"}, [F_WHEN] = {.key = "when"},
        [F_GRID] = {.key = "grid"},
    };
    p->when_param = -1;
    if (s_fields (ctx, pf, f, F_PARAM_KEYS))
        return -1;
    if (!f[F_TYPE].present)
        return s_missing (ctx, &f[F_TYPE]);
    const char *type;
    if (s_get_string (ctx, &f[F_TYPE], &type))
        return -1;
    if (!strcmp (type, "float"))
        p->type = HPO_PARAM_FLOAT;
    else if (!strcmp (type, "int"))
        p->type = HPO_PARAM_INT;
    else if (!strcmp (type, "categorical"))
        p->type = HPO_PARAM_CATEGORICAL;
    else
        return s_fail (ctx, s_vline (&f[F_TYPE]), f[F_TYPE].path,
                       "must be float, int or categorical");

    int rc;
    if (p->type == HPO_PARAM_CATEGORICAL) {
        //  Values are the whole story: a range beside them would be
        //  ignored, so it is an error instead.
        for (int j = F_LOW; j <= F_POINTS; j++)
            if (j != F_VALUES && f[j].present)
                return s_fail (ctx, f[j].line, f[j].path,
                               "not allowed for categorical");
        if (!f[F_VALUES].present)
            return s_missing (ctx, &f[F_VALUES]);
        rc = s_parse_values (ctx, &f[F_VALUES], p);
    } else
        rc = s_parse_numeric (ctx, f, p);
    if (rc == 0 && p->values)
        s_index_values (p);
    if (rc == 0 && f[F_WHEN].present)
        rc = s_parse_when (ctx, &f[F_WHEN], self, k);
    if (rc == 0 && f[F_GRID].present)
        rc = s_parse_grid (ctx, &f[F_GRID], &f[F_WHEN], p);
    return rc;
}

static int
s_too_many_params (s_ctx_t *ctx, int line, const char *path, size_t n)
{
    return s_fail (ctx, line, path,
                   "has %zu parameters; at most %d are allowed", n,
                   HPO_SPEC_MAX_PARAMS);
}

typedef struct {
    const char *name;
    size_t len;
    size_t index;
} s_key_t;

static int
s_key_cmp (const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int rc = memcmp (x->name, y->name, n);
    if (rc == 0)
        rc = x->len < y->len ? -1 : x->len > y->len;
    if (rc == 0)
        rc = x->index < y->index ? -1 : x->index > y->index;
    return rc;
}

//  The index of the first key that repeats an earlier one, or SIZE_MAX.
//  Sorting, not comparing each key with the others, keeps it n log n.
static size_t
s_first_duplicate (s_key_t *keys, size_t n)
{
    qsort (keys, n, sizeof *keys, s_key_cmp);
    size_t dup = SIZE_MAX;
    for (size_t k = 1; k < n; k++)
        if (keys[k].len == keys[k - 1].len &&
            !memcmp (keys[k].name, keys[k - 1].name, keys[k].len) &&
            keys[k].index < dup)
            dup = keys[k].index;
    return dup;
}

//  Reads each parameter's name into self->params, checking it and that
//  none repeats, and where to read the parameter from into fields.
static int
s_param_names (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self,
               s_field_t *fields)
{
    void *iter = NULL;
    struct fy_node_pair *pair;
    size_t n = 0;
    while ((pair = fy_node_mapping_iterate (f->value, &iter))) {
        struct fy_node *key = fy_node_pair_key (pair);
        s_field_t *pf = &fields[n];
        pf->value = fy_node_pair_value (pair);
        pf->present = true;
        pf->line = s_line (key, s_vline (f));
        size_t len = 0;
        const char *name = s_scalar (ctx, key, &len);
        if (!name)
            return s_fail (ctx, pf->line, f->path, "keys must be strings");
        s_path (pf->path, f->path, name, len > 64 ? 64 : len);
        if (hpo_name_param_problem (name, len))
            return s_fail (ctx, pf->line, pf->path,
                           "a parameter name must match "
                           "[A-Za-z_][A-Za-z0-9_]* (at most %d bytes)",
                           HPO_NAME_PARAM_MAX);
        self->params[n++].name = hpo_strndup (name, len);
        self->n_params = n;
    }
    //  libfyaml's own check is off (s_load).
    s_key_t *keys = hpo_calloc (n, sizeof *keys);
    for (size_t k = 0; k < n; k++)
        keys[k] =
            (s_key_t){self->params[k].name, strlen (self->params[k].name), k};
    size_t dup = s_first_duplicate (keys, n);
    free (keys);
    if (dup != SIZE_MAX)
        return s_fail (ctx, fields[dup].line, fields[dup].path,
                       "duplicate key");
    return 0;
}

static int
s_parse_space (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    struct fy_node *map = f->value;
    if (!map || !fy_node_is_mapping (map))
        return s_fail (ctx, s_vline (f), f->path, "must be a mapping");
    int count = fy_node_mapping_item_count (map);
    if (count <= 0)
        return s_fail (ctx, s_vline (f), f->path,
                       "must name at least one parameter");
    //  Checked before loading too, but merge keys can add parameters.
    if (count > HPO_SPEC_MAX_PARAMS)
        return s_too_many_params (ctx, f->line, f->path, (size_t)count);
    self->params = hpo_calloc ((size_t)count, sizeof (hpo_param_spec_t));
    s_field_t *fields = hpo_calloc ((size_t)count, sizeof *fields);
    int rc = s_param_names (ctx, f, self, fields);
    for (size_t k = 0; rc == 0 && k < self->n_params; k++)
        rc = s_parse_param (ctx, &fields[k], self, k);
    free (fields);
    //  The grid points of a hybrid search: each is a row of the counts
    //  hpo study show reports, so they are bounded as a grid is.
    uint64_t points = 1;
    for (size_t k = 0; rc == 0 && k < self->n_params; k++) {
        uint64_t c = hpo_param_grid_count (&self->params[k]);
        if (!self->params[k].grid)
            continue;
        if (c > HPO_SPEC_MAX_HYBRID || points > HPO_SPEC_MAX_HYBRID / c)
            rc = s_fail (ctx, f->line, f->path,
                         "the grid: true parameters have more than %llu "
                         "points",
                         (unsigned long long)HPO_SPEC_MAX_HYBRID);
        points *= c;
    }
    return rc;
}

// ---------------------------------------------------------------------
//  The study

static int
s_parse_name (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    if (!f->present)
        return s_missing (ctx, f);
    const char *name;
    if (s_get_string (ctx, f, &name))
        return -1;
    //  Names go into directory names, log lines and the CLI's arguments;
    //  the worker holds them to the same rule.
    const char *why = hpo_name_study_problem (name, strlen (name));
    if (why)
        return s_fail (ctx, s_vline (f), f->path, "%s", why);
    self->name = hpo_strdup (name);
    return 0;
}

static int
s_parse_command (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    if (!f->present)
        return s_missing (ctx, f);
    const s_field_t *at = f;
    s_field_t run[2] = {{.key = "run"}, {.key = "shell"}};
    if (f->value && fy_node_is_mapping (f->value)) {
        if (s_fields (ctx, f, run, 2))
            return -1;
        if (!run[0].present)
            return s_missing (ctx, &run[0]);
        if (run[1].present && s_get_bool (ctx, &run[1], &self->shell))
            return -1;
        at = &run[0];
    } else if (!f->value || !fy_node_is_scalar (f->value))
        return s_fail (ctx, s_vline (f), f->path,
                       "must be a string, or a mapping of run and shell");
    const char *tmpl;
    if (s_get_string (ctx, at, &tmpl))
        return -1;
    size_t len = strlen (tmpl);
    if (len > HPO_SPEC_MAX_COMMAND)
        return s_fail (ctx, s_vline (at), at->path,
                       "is %zu bytes long; at most %d are allowed", len,
                       HPO_SPEC_MAX_COMMAND);
    char **names = hpo_calloc (self->n_params, sizeof (char *));
    for (size_t k = 0; k < self->n_params; k++)
        names[k] = self->params[k].name;
    char *why = NULL;
    int rc = hpo_command_check (tmpl, names, self->n_params, &why);
    free (names);
    if (rc) {
        s_fail (ctx, s_vline (at), at->path, "%s", why);
        free (why);
        return -1;
    }
    self->command = hpo_strdup (tmpl);
    return 0;
}

//  objective.value: last (the default), best, min or max.
static int
s_parse_value (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    static const char *const names[] = {"last", "best", "min", "max"};
    if (!f->present)
        return 0;
    const char *name;
    if (s_get_string (ctx, f, &name))
        return -1;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (!strcmp (name, names[k])) {
            self->value = (hpo_spec_value_t)k;
            return 0;
        }
    return s_fail (ctx, s_vline (f), f->path, "must be last, best, min or max");
}

static int
s_parse_objective (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    if (!f->present)
        return s_missing (ctx, f);
    s_field_t o[3] = {
        {.key = "metric"}, {.key = "direction"}, {.key = "value"}};
    if (s_fields (ctx, f, o, 3) || s_parse_value (ctx, &o[2], self))
        return -1;
    if (!o[0].present)
        return s_missing (ctx, &o[0]);
    const char *metric;
    if (s_get_string (ctx, &o[0], &metric))
        return -1;
    //  The names a worker accepts in a report line (worker/report.h); any
    //  other objective could never be reported, and every trial would fail.
    if (hpo_name_metric_problem (metric, strlen (metric)))
        return s_fail (ctx, s_vline (&o[0]), o[0].path,
                       "must be 1 to %d bytes of letters, digits, "
                       "'_', '.', ':', '/' and '-'",
                       HPO_NAME_METRIC_MAX);
    if (!strcmp (metric, "step"))
        return s_fail (ctx, s_vline (&o[0]), o[0].path,
                       "step is a report's step, not a metric");
    self->metric = hpo_strdup (metric);
    if (o[1].present) {
        const char *direction;
        if (s_get_string (ctx, &o[1], &direction))
            return -1;
        if (!strcmp (direction, "maximize"))
            self->maximize = 1;
        else if (strcmp (direction, "minimize"))
            return s_fail (ctx, s_vline (&o[1]), o[1].path,
                           "must be minimize or maximize");
    }
    return 0;
}

// ---------------------------------------------------------------------
//  Sampler and pruner: a registry entry (search/) and its options

//  The type under sampler: or pruner:, NULL when absent (or the mapping
//  is). Read before the other keys, since the type says which they may be.
static int
s_search_type (s_ctx_t *ctx, const s_field_t *f, s_field_t *type,
               const char **name)
{
    *name = NULL;
    *type = (s_field_t){.key = "type", .line = f->line};
    s_path (type->path, f->path, "type", 4);
    if (s_is_null (f->value))
        return 0;
    if (!fy_node_is_mapping (f->value))
        return s_fail (ctx, s_vline (f), f->path, "must be a mapping");
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate (f->value, &iter))) {
        size_t len = 0;
        const char *key = s_scalar (ctx, fy_node_pair_key (pair), &len);
        if (key && len == 4 && !memcmp (key, "type", 4)) {
            type->value = fy_node_pair_value (pair);
            type->present = true;
            type->line = s_line (fy_node_pair_key (pair), f->line);
            return s_get_string (ctx, type, name);
        }
    }
    return 0;
}

//  The line of the k-th parameter's key under space:.
static int
s_param_line (const s_field_t *space, size_t k)
{
    void *iter = NULL;
    struct fy_node_pair *pair = NULL;
    for (size_t i = 0; i <= k; i++)
        pair = fy_node_mapping_iterate (space->value, &iter);
    assert (pair);
    return s_line (fy_node_pair_key (pair), space->line);
}

//  Reports what an entry's check found, where the study file says it.
static int
s_search_problem (s_ctx_t *ctx, const s_field_t *f, const s_field_t *space,
                  const hpo_spec_t *self, s_field_t *const *options,
                  size_t n_options, hpo_search_problem_t *problem)
{
    int line = f->line;
    char path[S_PATH_MAX];
    snprintf (path, sizeof path, "%s", f->path);
    if (problem->at == HPO_SEARCH_AT_OPTION) {
        assert (problem->index < n_options);
        line = s_vline (options[problem->index]);
        snprintf (path, sizeof path, "%s", options[problem->index]->path);
    } else if (problem->at == HPO_SEARCH_AT_PARAM) {
        assert (problem->index < self->n_params);
        line = s_param_line (space, problem->index);
        const char *name = self->params[problem->index].name;
        s_path (path, space->path, name, strlen (name));
    } else if (problem->at == HPO_SEARCH_AT_SPACE) {
        line = space->line;
        snprintf (path, sizeof path, "%s", space->path);
    }
    s_fail (ctx, line, path, "%s",
            problem->message ? problem->message : "is not valid");
    free (problem->message);
    return -1;
}

//  Reads the entry's options (every key but type, which s_search_type
//  read) and runs its check.
//  A pruner's wrapped: (the only option that is a mapping) is not handed
//  to the check but copied to *wrapped, for the caller to parse as a
//  pruner of its own; wrapped may be NULL where no key is "wrapped".
static int
s_search_check (s_ctx_t *ctx, const s_field_t *f, const s_field_t *space,
                const hpo_spec_t *self, const char *const *keys,
                hpo_search_check_fn *check, void **config, s_field_t *wrapped)
{
    s_field_t fields[1 + S_MAX_SEARCH_KEYS] = {{.key = "type"}};
    size_t n_keys = 0;
    while (keys[n_keys]) {
        assert (n_keys < S_MAX_SEARCH_KEYS);
        fields[1 + n_keys].key = keys[n_keys];
        n_keys++;
    }
    if (s_optional_fields (ctx, f, fields, 1 + n_keys))
        return -1;
    hpo_search_option_t options[S_MAX_SEARCH_KEYS];
    s_field_t *at[S_MAX_SEARCH_KEYS];
    size_t n = 0;
    int rc = 0;
    for (size_t k = 1; rc == 0 && k <= n_keys; k++) {
        if (!fields[k].present)
            continue;
        if (wrapped && !strcmp (fields[k].key, "wrapped")) {
            *wrapped = fields[k];
            continue;
        }
        bool null;
        rc = s_get_scalar (ctx, &fields[k], &options[n].value, &null);
        options[n].key = fields[k].key;
        options[n].line = s_vline (&fields[k]);
        at[n++] = &fields[k];
    }
    hpo_search_problem_t problem = {0};
    if (rc == 0 && check (self, options, n, config, &problem))
        rc = s_search_problem (ctx, f, space, self, at, n, &problem);
    for (size_t k = 0; k < n; k++)
        hpo_values_clear (&options[k].value, 1);
    return rc;
}

static int
s_unknown_type (s_ctx_t *ctx, const s_field_t *type, char *names)
{
    s_fail (ctx, s_vline (type), type->path, "must be one of: %s", names);
    free (names);
    return -1;
}

//  The registry's first entry is the default sampler, and pruner.
static int
s_parse_sampler (s_ctx_t *ctx, const s_field_t *f, const s_field_t *space,
                 hpo_spec_t *self)
{
    s_field_t type;
    const char *name;
    if (s_search_type (ctx, f, &type, &name))
        return -1;
    const hpo_sampler_ops_t *ops =
        name ? hpo_sampler_find (name) : hpo_sampler_at (0);
    if (!ops)
        return s_unknown_type (ctx, &type, hpo_sampler_names ());
    self->sampler.ops = ops;
    return s_search_check (ctx, f, space, self, ops->keys, ops->check,
                           &self->sampler.config, NULL);
}

//  The pruner under f into *ops and *config; a pruner that wraps another
//  (ops->wraps) has it under wrapped:, one level deep, into the spec's
//  pruner.wrapped_ops and wrapped_config.
static int
s_parse_pruner_at (s_ctx_t *ctx, const s_field_t *f, const s_field_t *space,
                   hpo_spec_t *self, int nested, const hpo_pruner_ops_t **ops_p,
                   void **config)
{
    s_field_t type;
    const char *name;
    if (s_search_type (ctx, f, &type, &name))
        return -1;
    if (nested && !name)
        return s_fail (ctx, type.line, type.path, "missing");
    const hpo_pruner_ops_t *ops =
        name ? hpo_pruner_find (name) : hpo_pruner_at (0);
    if (!ops)
        return s_unknown_type (ctx, &type, hpo_pruner_names ());
    if (nested && ops->wraps)
        return s_fail (ctx, s_vline (&type), type.path,
                       "must be a pruner that wraps none");
    *ops_p = ops;
    s_field_t wrapped = {.present = false};
    if (s_search_check (ctx, f, space, self, ops->keys, ops->check, config,
                        &wrapped))
        return -1;
    if (!wrapped.present)
        return 0;
    if (!fy_node_is_mapping (wrapped.value))
        return s_fail (ctx, s_vline (&wrapped), wrapped.path,
                       "must be a mapping with a type");
    return s_parse_pruner_at (ctx, &wrapped, space, self, 1,
                              &self->pruner.wrapped_ops,
                              &self->pruner.wrapped_config);
}

static int
s_parse_pruner (s_ctx_t *ctx, const s_field_t *f, const s_field_t *space,
                hpo_spec_t *self)
{
    return s_parse_pruner_at (ctx, f, space, self, 0, &self->pruner.ops,
                              &self->pruner.config);
}

//  budget.trials is checked against the sampler later; this reads it.
static int
s_parse_budget (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self,
                s_field_t *trials)
{
    s_field_t b[4] = {{.key = "trials"},
                      {.key = "parallel"},
                      {.key = "fail_fast"},
                      {.key = "max_failed"}};
    self->fail_fast = S_DEFAULT_FAIL_FAST;
    if (s_optional_fields (ctx, f, b, 4))
        return -1;
    *trials = b[0];
    if (b[0].present) {
        int64_t n;
        if (s_get_int_in (ctx, &b[0], 1, INT64_MAX, "a positive integer", &n))
            return -1;
        self->trials = (uint64_t)n;
    }
    if (b[1].present) {
        int64_t n;
        if (s_get_int_in (ctx, &b[1], 0, UINT32_MAX, "a non-negative integer",
                          &n))
            return -1;
        self->parallel = (uint32_t)n;
    }
    if (b[2].present) {
        int64_t n;
        if (s_get_int_in (ctx, &b[2], 0, UINT32_MAX,
                          "a non-negative integer (0: never fail fast)", &n))
            return -1;
        self->fail_fast = (uint32_t)n;
    }
    if (b[3].present) {
        int64_t n;
        if (s_get_int_in (ctx, &b[3], 1, INT64_MAX,
                          "a positive integer (omit it for no limit)", &n))
            return -1;
        self->max_failed = (uint64_t)n;
    }
    return 0;
}

static int
s_parse_trial (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    self->grace_ms = S_DEFAULT_GRACE_MS;
    self->max_lost = S_DEFAULT_MAX_LOST;
    s_field_t t[4] = {{.key = "timeout"},
                      {.key = "retries"},
                      {.key = "grace"},
                      {.key = "max_lost"}};
    if (s_optional_fields (ctx, f, t, 4))
        return -1;
    if (t[0].present) {
        if (s_get_duration (ctx, &t[0], &self->timeout_ms))
            return -1;
        //  0 means "no timeout" inside; a user who wants none omits it.
        if (self->timeout_ms == 0)
            return s_fail (ctx, s_vline (&t[0]), t[0].path,
                           "must be at least 1ms (omit it for no timeout)");
    }
    if (t[1].present) {
        int64_t n;
        if (s_get_int_in (ctx, &t[1], 0, UINT32_MAX, "a non-negative integer",
                          &n))
            return -1;
        self->retries = (uint32_t)n;
    }
    if (t[2].present && s_get_duration (ctx, &t[2], &self->grace_ms))
        return -1;
    if (t[3].present) {
        int64_t n;
        if (s_get_int_in (ctx, &t[3], 0, UINT32_MAX, "a non-negative integer",
                          &n))
            return -1;
        self->max_lost = (uint32_t)n;
    }
    return 0;
}

//  workdir: where the command runs. Placeholders are not expanded: a
//  directory per parameter value is not something a study needs.
static int
s_parse_workdir (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    if (!f->present || s_is_null (f->value))
        return 0;
    const char *dir;
    if (s_get_string (ctx, f, &dir))
        return -1;
    size_t len = strlen (dir);
    if (len == 0)
        return s_fail (ctx, s_vline (f), f->path,
                       "must not be empty (omit it for the worker's "
                       "directory)");
    if (len > HPO_SPEC_MAX_WORKDIR)
        return s_fail (ctx, s_vline (f), f->path,
                       "is %zu bytes long; at most %d are allowed", len,
                       HPO_SPEC_MAX_WORKDIR);
    self->workdir = hpo_strdup (dir);
    return 0;
}

//  One NAME: value of env into self->env.
static int
s_parse_env_entry (s_ctx_t *ctx, const s_field_t *f, struct fy_node_pair *pair,
                   hpo_spec_t *self, s_field_t *at)
{
    struct fy_node *key = fy_node_pair_key (pair);
    at->value = fy_node_pair_value (pair);
    at->present = true;
    at->line = s_line (key, s_vline (f));
    size_t len = 0;
    const char *name = s_scalar (ctx, key, &len);
    if (!name)
        return s_fail (ctx, at->line, f->path, "keys must be strings");
    s_path (at->path, f->path, name, len > 64 ? 64 : len);
    const char *why = hpo_name_env_problem (name, len);
    if (why)
        return s_fail (ctx, at->line, at->path, "a variable name %s", why);
    if (s_is_null (at->value))
        return s_fail (ctx, s_vline (at), at->path,
                       "must be a value (write \"\" for an empty one)");
    const char *value;
    bool typed;
    if (s_get_text (ctx, at, "a string or a number", &value, &typed))
        return -1;
    size_t value_len = strlen (value);
    if (value_len > HPO_SPEC_MAX_ENV_VALUE)
        return s_fail (ctx, s_vline (at), at->path,
                       "is %zu bytes long; at most %d are allowed", value_len,
                       HPO_SPEC_MAX_ENV_VALUE);
    self->env[self->n_env++] = hpo_sprintf ("%.*s=%s", (int)len, name, value);
    return 0;
}

//  env: variables added to every trial's environment, after hpo's own.
static int
s_parse_env (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    if (!f->present || s_is_null (f->value))
        return 0;
    struct fy_node *map = f->value;
    if (!fy_node_is_mapping (map))
        return s_fail (ctx, s_vline (f), f->path,
                       "must be a mapping of NAME: value");
    int count = fy_node_mapping_item_count (map);
    if (count > HPO_SPEC_MAX_ENV)
        return s_fail (ctx, f->line, f->path,
                       "has %d variables; at most %d are allowed", count,
                       HPO_SPEC_MAX_ENV);
    if (count <= 0)
        return 0;
    self->env = hpo_calloc ((size_t)count + 1, sizeof (char *));
    s_field_t *fields = hpo_calloc ((size_t)count, sizeof *fields);
    void *iter = NULL;
    struct fy_node_pair *pair;
    int rc = 0;
    while (rc == 0 && (pair = fy_node_mapping_iterate (map, &iter)))
        rc = s_parse_env_entry (ctx, f, pair, self, &fields[self->n_env]);
    //  libfyaml's own check is off (s_load).
    s_key_t *keys = hpo_calloc (self->n_env, sizeof *keys);
    for (size_t k = 0; k < self->n_env; k++)
        keys[k] =
            (s_key_t){self->env[k],
                      (size_t)(strchr (self->env[k], '=') - self->env[k]), k};
    size_t dup = rc ? SIZE_MAX : s_first_duplicate (keys, self->n_env);
    free (keys);
    if (dup != SIZE_MAX)
        rc = s_fail (ctx, fields[dup].line, fields[dup].path, "duplicate key");
    free (fields);
    return rc;
}

enum {
    F_NAME,
    F_COMMAND,
    F_OBJECTIVE,
    F_SAMPLER,
    F_PRUNER,
    F_BUDGET,
    F_TRIAL,
    F_SPACE,
    F_WORKDIR,
    F_ENV,
    F_METRICS,
    F_STUDY_KEYS
};

//  metrics: {source: report | stdout, pattern: REGEX}. The pattern is
//  compiled here, so a bad one is the study's error, not every trial's;
//  it must be able to give the objective.
static int
s_parse_metrics (s_ctx_t *ctx, const s_field_t *f, hpo_spec_t *self)
{
    if (!f->present || s_is_null (f->value))
        return 0;
    s_field_t m[2] = {{.key = "source"}, {.key = "pattern"}};
    if (s_fields (ctx, f, m, 2))
        return -1;
    const char *source = "report", *pattern = NULL;
    if (m[0].present && s_get_string (ctx, &m[0], &source))
        return -1;
    if (strcmp (source, "stdout") && strcmp (source, "report"))
        return s_fail (ctx, s_vline (&m[0]), m[0].path,
                       "must be report or stdout");
    if (m[1].present && s_get_string (ctx, &m[1], &pattern))
        return -1;
    if (pattern && strcmp (source, "stdout"))
        return s_fail (ctx, s_vline (&m[1]), m[1].path,
                       "only with source: stdout");
    self->metrics_stdout = !strcmp (source, "stdout");
    if (self->metrics_stdout && !strcmp (self->metric, "epoch"))
        return s_fail (ctx, s_vline (&m[0]), m[0].path,
                       "from stdout, epoch is the step: the objective "
                       "cannot be called epoch");
    char *error = NULL;
    hpo_linepat_t *pat = hpo_linepat_new (pattern, &error);
    int rc = 0;
    if (!pat)
        rc = s_fail (ctx, s_vline (&m[1]), m[1].path, "%s", error);
    else if (!hpo_linepat_has (pat, self->metric))
        rc = s_fail (ctx, s_vline (&m[1]), m[1].path,
                     "has no group named %s, the objective: write "
                     "(?<%s>...)",
                     self->metric, self->metric);
    else if (pattern && *pattern)
        self->metrics_pattern = hpo_strdup (pattern);
    free (error);
    hpo_linepat_destroy (&pat);
    return rc;
}

static int
s_parse_study (s_ctx_t *ctx, struct fy_node *root, hpo_spec_t *self)
{
    if (s_is_null (root))
        return s_fail (ctx, s_line (root, 1), NULL, "the study file is empty");
    s_field_t top = {.value = root, .present = true, .line = s_line (root, 1)};
    s_field_t f[F_STUDY_KEYS] = {
        [F_NAME] = {.key = "name"},           [F_COMMAND] = {.key = "command"},
        [F_OBJECTIVE] = {.key = "objective"}, [F_SAMPLER] = {.key = "sampler"},
        [F_PRUNER] = {.key = "pruner"},       [F_BUDGET] = {.key = "budget"},
        [F_TRIAL] = {.key = "trial"},         [F_SPACE] = {.key = "space"},
        [F_WORKDIR] = {.key = "workdir"},     [F_ENV] = {.key = "env"},
        [F_METRICS] = {.key = "metrics"},
    };
    if (s_fields (ctx, &top, f, F_STUDY_KEYS))
        return -1;
    s_field_t trials;
    //  The space comes before the command, whose placeholders it names.
    if (s_parse_name (ctx, &f[F_NAME], self))
        return -1;
    if (!f[F_SPACE].present)
        return s_missing (ctx, &f[F_SPACE]);
    if (s_parse_space (ctx, &f[F_SPACE], self) ||
        s_parse_command (ctx, &f[F_COMMAND], self) ||
        s_parse_objective (ctx, &f[F_OBJECTIVE], self) ||
        s_parse_sampler (ctx, &f[F_SAMPLER], &f[F_SPACE], self) ||
        s_parse_pruner (ctx, &f[F_PRUNER], &f[F_SPACE], self) ||
        s_parse_budget (ctx, &f[F_BUDGET], self, &trials) ||
        s_parse_trial (ctx, &f[F_TRIAL], self) ||
        s_parse_workdir (ctx, &f[F_WORKDIR], self) ||
        s_parse_env (ctx, &f[F_ENV], self) ||
        s_parse_metrics (ctx, &f[F_METRICS], self))
        return -1;
    //  A sampler that can run out (grid) caps the budget and lets it be
    //  omitted; one that cannot needs it.
    uint64_t size = self->sampler.ops->size (self, self->sampler.config);
    if (size != UINT64_MAX) {
        if (!trials.present || self->trials > size)
            self->trials = size;
    } else if (!trials.present)
        return s_missing (ctx, &trials);
    //  No sampler hands out a configuration twice (search/suggest.h), so
    //  a finite space caps any study's budget at its size.
    hpo_space_t *space = hpo_space_new (self, NULL, NULL);
    if (self->trials > hpo_space_size (space))
        self->trials = hpo_space_size (space);
    hpo_space_destroy (&space);
    return 0;
}

// ---------------------------------------------------------------------
//  Loading

//  libfyaml reports through a diag object; ours writes nowhere and keeps
//  the last free-form line in case no structured error was collected.
static void
s_diag_output (struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    s_ctx_t *ctx = user;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    free (ctx->diag);
    ctx->diag = hpo_strndup (buf, len);
}

//  Whether line (1-based) of the text is indented with a tab.
static bool
s_tab_indented (const s_ctx_t *ctx, int line)
{
    const char *p = ctx->text, *end = ctx->text + ctx->len;
    for (int k = 1; k < line && p; k++)
        if ((p = memchr (p, '\n', (size_t)(end - p))))
            p++;
    for (; p && p < end && s_white (*p); p++)
        if (*p == '\t')
            return true;
    return false;
}

//  A syntax error, on the line it is on. libfyaml places an error at the
//  start of the token it was reading. For a plain scalar that ran on
//  over several lines ("invalid multiline plain key"), that start is a
//  line above the fault: "name: x" followed by a line indented with a
//  tab, or indented too far, reads as one key "x command" that began on
//  line 1. The fault is where the scalar went on to become a key, so that
//  line is named, and a tab in its indentation is called what it is.
static void
s_diag_error (s_ctx_t *ctx, const struct fy_diag_error *err)
{
    int line = err->line;
    struct fy_token *token = err->fyt;
    const struct fy_mark *start = token ? fy_token_start_mark (token) : NULL;
    const struct fy_mark *end = token ? fy_token_end_mark (token) : NULL;
    //  The token is not always the scalar (libfyaml 0.7 gives an input
    //  marker over it), so the text says whether it is plain: not in
    //  quotes (the mark is on the quote or just after it), nor a flow
    //  collection or a block scalar.
    size_t at = start ? start->input_pos : 0;
    if (start && end && end->line > start->line && at < ctx->len &&
        !strchr ("'\"[{|>", ctx->text[at]) &&
        !(at > 0 && strchr ("'\"", ctx->text[at - 1]))) {
        for (int k = start->line + 2; k <= end->line + 1; k++)
            if (s_tab_indented (ctx, k)) {
                s_fail (ctx, k, NULL,
                        "syntax error: a tab indents this line; YAML "
                        "indents with spaces only");
                return;
            }
        //  The scalar ends where the colon that made it a key stands.
        s_fail (ctx, end->column > 0 ? end->line + 1 : end->line, NULL,
                "syntax error: %s (this line continues line %d: check "
                "its indentation)",
                err->msg, start->line + 1);
        return;
    }
    //  libfyaml's collected errors carry 1-based lines.
    s_fail (ctx, line, NULL, "syntax error: %s", err->msg);
}

static void
s_diag_fail (s_ctx_t *ctx, struct fy_diag *diag)
{
    void *iter = NULL;
    struct fy_diag_error *err = fy_diag_errors_iterate (diag, &iter);
    if (err)
        s_diag_error (ctx, err);
    else if (ctx->diag)
        s_fail (ctx, 1, NULL, "syntax error: %s", ctx->diag);
    else
        s_fail (ctx, 1, NULL, "the study file is empty");
}

//  libfyaml 0.7 never switches on its hash tables (fy_document_create
//  tests whether a document is accelerated before making it so), so it
//  finds a key in a mapping, and an alias's anchor, by walking a list.
//  Left to itself it would compare every key of a mapping with every
//  earlier one while loading, and again with every other one while
//  resolving aliases: 6 s for 20,000 parameters, 65 s for 30,000. So the
//  text is first loaded with that check off (FYPCF_ALLOW_DUPLICATE_KEYS;
//  s_fields and s_parse_space find duplicates in linear time), and
//  surveyed. Only a file that has aliases is loaded again with libfyaml's
//  checks on, since its merge keys depend on them, and only once the
//  survey has bounded what loading and resolving it will cost.
//
//  Aliases also let a few lines stand for an exponential number of nodes
//  ("a billion laughs"), which resolving would build in memory: 24 GB for
//  a 300-byte file. So before resolving, the tree is walked as resolved,
//  giving up once aliases have taken it past S_EXPANDED_MAX nodes or
//  S_DEPTH_MAX levels (an alias inside its own anchor recurses forever),
//  or past S_WORK_MAX comparisons of keys or anchor names.
#define S_EXPANDED_MAX 100000
#define S_DEPTH_MAX 256
//  No mapping a study may hold is larger than its space.
#define S_MAP_MAX HPO_SPEC_MAX_PARAMS
//  About 0.1 s of comparisons. A study of HPO_SPEC_MAX_PARAMS parameters
//  that are all aliases of one takes three quarters of it.
#define S_WORK_MAX 2000000

typedef struct {
    size_t nodes;
    bool aliases;
    size_t anchors;
    uint64_t work;       //  comparisons loading or resolving makes
    struct fy_node *big; //  the first mapping over S_MAP_MAX keys
} s_walk_t;

//  The tree as loaded, aliases not followed. libfyaml bounds its depth.
static void
s_survey (struct fy_node *node, s_walk_t *walk)
{
    if (!node)
        return;
    walk->nodes++;
    void *iter = NULL;
    if (fy_node_is_alias (node))
        walk->aliases = true;
    else if (fy_node_is_mapping (node)) {
        uint64_t n = 0;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate (node, &iter))) {
            n++;
            s_survey (fy_node_pair_key (pair), walk);
            s_survey (fy_node_pair_value (pair), walk);
        }
        if (n > S_MAP_MAX && !walk->big)
            walk->big = node;
        walk->work += n * (n - 1) / 2; //  each key against earlier ones
    } else if (fy_node_is_sequence (node)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate (node, &iter)))
            s_survey (item, walk);
    }
}

//  Follows an alias, counting the anchors libfyaml looks through to do it.
//  Returns the anchored node, or NULL if the alias has no anchor or the
//  work budget is spent (walk->work then says which).
static struct fy_node *
s_follow (struct fy_node *alias, s_walk_t *walk)
{
    walk->work += walk->anchors;
    if (walk->work > S_WORK_MAX)
        return NULL;
    return fy_node_resolve_alias (alias);
}

static bool
s_is_merge_key (struct fy_node *key)
{
    size_t len = 0;
    const char *text =
        key && fy_node_is_scalar (key) && fy_node_get_style (key) == FYNS_PLAIN
            ? fy_node_get_scalar (key, &len)
            : NULL;
    return text && len == 2 && !memcmp (text, "<<", 2);
}

//  How many keys a merge key's value brings: one mapping's, or a list's.
static uint64_t
s_merged_keys (struct fy_node *value, s_walk_t *walk)
{
    struct fy_node *target;
    if (fy_node_is_alias (value))
        return (target = s_follow (value, walk)) && fy_node_is_mapping (target)
                   ? (uint64_t)fy_node_mapping_item_count (target)
                   : 0;
    uint64_t n = 0;
    void *iter = NULL;
    struct fy_node *item;
    if (fy_node_is_sequence (value))
        while ((item = fy_node_sequence_iterate (value, &iter)))
            n += fy_node_is_alias (item) ? s_merged_keys (item, walk) : 0;
    return n;
}

//  The tree as resolving will build it.
static bool
s_walk (struct fy_node *node, s_walk_t *walk, int depth)
{
    if (!node)
        return true;
    if (++walk->nodes > S_EXPANDED_MAX || depth > S_DEPTH_MAX ||
        walk->work > S_WORK_MAX)
        return false;
    if (fy_node_is_alias (node)) {
        //  An alias without its anchor is left for fy_document_resolve
        //  to report.
        struct fy_node *target = s_follow (node, walk);
        return walk->work <= S_WORK_MAX &&
               (!target || s_walk (target, walk, depth + 1));
    }
    void *iter = NULL;
    if (fy_node_is_mapping (node)) {
        uint64_t own = 0, merged = 0;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate (node, &iter))) {
            if (s_is_merge_key (fy_node_pair_key (pair)))
                merged += s_merged_keys (fy_node_pair_value (pair), walk);
            else
                own++;
            if (!s_walk (fy_node_pair_key (pair), walk, depth + 1) ||
                !s_walk (fy_node_pair_value (pair), walk, depth + 1))
                return false;
        }
        //  Merging checks each merged key against the keys present, then
        //  each key of the mapping is checked against every other.
        uint64_t n = own + merged;
        walk->work += merged * n + own * n;
    } else if (fy_node_is_sequence (node)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate (node, &iter)))
            if (!s_walk (item, walk, depth + 1))
                return false;
    }
    return walk->work <= S_WORK_MAX;
}

//  The study's top-level pair "space", or NULL.
static struct fy_node_pair *
s_space_pair (s_ctx_t *ctx, struct fy_node *root)
{
    if (!root || !fy_node_is_mapping (root))
        return NULL;
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate (root, &iter))) {
        size_t len = 0;
        const char *text = s_scalar (ctx, fy_node_pair_key (pair), &len);
        if (text && len == 5 && !memcmp (text, "space", 5))
            return pair;
    }
    return NULL;
}

//  libfyaml 0.7 frees each node by looking through all the document's
//  anchors for its own (the hash tables again), so a document with many
//  anchors is quadratic to free even with no alias: 23 s for 60,000. So a
//  text with more '&' than S_ANCHORS_MAX has its anchors counted from the
//  event stream, which builds no document, before it is loaded.
#define S_ANCHORS_MAX 256

static struct fy_token *
s_event_anchor (struct fy_event *event)
{
    switch (event->type) {
    case FYET_SCALAR:
        return event->scalar.anchor;
    case FYET_SEQUENCE_START:
        return event->sequence_start.anchor;
    case FYET_MAPPING_START:
        return event->mapping_start.anchor;
    default:
        return NULL;
    }
}

//  Returns 0, or -1 with the error set if text has too many anchors. A
//  syntax error is left for loading to report.
static int
s_check_anchors (s_ctx_t *ctx, const char *text, size_t len,
                 enum fy_parse_cfg_flags flags, struct fy_diag *diag)
{
    size_t amps = 0;
    for (const char *p = text; (p = memchr (p, '&', len - (size_t)(p - text)));
         p++)
        amps++;
    if (amps <= S_ANCHORS_MAX)
        return 0;
    struct fy_parse_cfg cfg = {.flags = flags, .diag = diag};
    struct fy_parser *parser = fy_parser_create (&cfg);
    if (!parser)
        abort (); //  only fails when out of memory
    int rc = 0;
    size_t anchors = 0;
    struct fy_event *event;
    if (fy_parser_set_string (parser, text, len) == 0)
        while (rc == 0 && (event = fy_parser_parse (parser))) {
            struct fy_token *anchor = s_event_anchor (event);
            if (anchor && ++anchors > S_ANCHORS_MAX) {
                const struct fy_mark *mark = fy_token_start_mark (anchor);
                rc = s_fail (ctx, mark ? mark->line + 1 : 1, NULL,
                             "more than %d anchors", S_ANCHORS_MAX);
            }
            fy_parser_event_free (parser, event);
        }
    fy_parser_destroy (parser);
    return rc;
}

//  libfyaml 0.7 corrupts its parser's indentation stack, and crashes
//  freeing it, on an explicit key ("? ") in block context followed by a
//  tab ("? n:\t:" is enough): found by fuzzing. A study never needs an
//  explicit key, so a line that starts with one (after indentation and
//  any "- " entries) is refused before libfyaml reads the text. This also
//  refuses such a line inside a block scalar, which is harmless.
static int
s_check_explicit_keys (s_ctx_t *ctx, const char *text, size_t len)
{
    int line = 1;
    for (size_t k = 0; k < len; line++) {
        while (k < len && (text[k] == ' ' || text[k] == '\t'))
            k++;
        while (k + 1 < len && text[k] == '-' &&
               (text[k + 1] == ' ' || text[k + 1] == '\t')) {
            k++;
            while (k < len && (text[k] == ' ' || text[k] == '\t'))
                k++;
        }
        if (k < len && text[k] == '?' &&
            (k + 1 == len || strchr (" \t\r\n", text[k + 1])))
            return s_fail (ctx, line, NULL,
                           "explicit keys ('? ') are not supported");
        const char *nl = memchr (text + k, '\n', len - k);
        k = nl ? (size_t)(nl - text) + 1 : len;
    }
    return 0;
}

//  A document and the parser that loaded it, which frees it.
typedef struct {
    struct fy_parser *parser;
    struct fy_document *doc;
} s_yaml_t;

static void
s_yaml_free (s_yaml_t *yaml)
{
    if (yaml->doc)
        fy_parse_document_destroy (yaml->parser, yaml->doc);
    if (yaml->parser)
        fy_parser_destroy (yaml->parser);
    yaml->doc = NULL;
    yaml->parser = NULL;
}

//  Loads the one document of text into yaml. Returns 0, or -1 with the
//  error set.
static int
s_yaml_load (s_ctx_t *ctx, s_yaml_t *yaml, const char *text, size_t len,
             enum fy_parse_cfg_flags flags, struct fy_diag *diag)
{
    struct fy_parse_cfg cfg = {.flags = flags, .diag = diag};
    yaml->parser = fy_parser_create (&cfg);
    if (!yaml->parser)
        abort (); //  only fails when out of memory
    struct fy_document *extra = NULL;
    int rc = -1;
    if (fy_parser_set_string (yaml->parser, text, len))
        s_fail (ctx, 1, NULL, "cannot read the study file");
    else if (!(yaml->doc = fy_parse_load_document (yaml->parser)))
        s_diag_fail (ctx, diag);
    else if ((extra = fy_parse_load_document (yaml->parser)))
        //  A second document would be silently ignored; say so instead.
        s_fail (ctx, s_line (fy_document_root (extra), 1), NULL,
                "a study file holds one YAML document");
    else if (fy_diag_got_error (diag))
        s_diag_fail (ctx, diag);
    else
        rc = 0;
    if (extra)
        fy_parse_document_destroy (yaml->parser, extra);
    return rc;
}

//  Loads text with libfyaml's checks off, surveys it, and if it has
//  aliases loads it again with them on and resolves it. Returns 0 with
//  yaml holding the document to read, or -1 with the error set.
static int
s_load (s_ctx_t *ctx, s_yaml_t *yaml, const char *text, size_t len,
        enum fy_parse_cfg_flags flags, struct fy_diag *diag)
{
    if (len > HPO_SPEC_MAX_BYTES)
        return s_fail (ctx, 1, NULL,
                       "the study file is %zu bytes; at most %u are allowed",
                       len, HPO_SPEC_MAX_BYTES);
    //  libfyaml 0.7 loops for ever on a directive holding a byte that is
    //  not UTF-8 ("%\x8b") and drops such bytes silently elsewhere. YAML
    //  and JSON are UTF-8 (a BOM included), so other text is refused first.
    size_t valid = hpo_utf8_prefix (text, len);
    if (valid < len) {
        int line = 1;
        for (const char *p = text;
             (p = memchr (p, '\n', valid - (size_t)(p - text))); p++)
            line++;
        return s_fail (ctx, line, NULL,
                       "not valid UTF-8 (byte %zu of the file)", valid + 1);
    }
    if (s_check_explicit_keys (ctx, text, len) ||
        s_check_anchors (ctx, text, len, flags, diag) ||
        s_yaml_load (ctx, yaml, text, len, flags | FYPCF_ALLOW_DUPLICATE_KEYS,
                     diag))
        return -1;
    struct fy_node *root = fy_document_root (yaml->doc);
    //  The parameter limit first, so that it is what a huge study hears.
    struct fy_node_pair *space = s_space_pair (ctx, root);
    struct fy_node *map = space ? fy_node_pair_value (space) : NULL;
    if (map && fy_node_is_mapping (map) &&
        fy_node_mapping_item_count (map) > HPO_SPEC_MAX_PARAMS)
        return s_too_many_params (ctx, s_line (fy_node_pair_key (space), 1),
                                  "space",
                                  (size_t)fy_node_mapping_item_count (map));
    s_walk_t survey = {0};
    s_survey (root, &survey);
    if (!survey.aliases)
        return 0;
    if (survey.big)
        return s_fail (ctx, s_line (survey.big, 1), NULL,
                       "a mapping has more than %d keys", S_MAP_MAX);
    void *iter = NULL;
    while (fy_document_anchor_iterate (yaml->doc, &iter))
        survey.anchors++;
    s_walk_t walk = {.anchors = survey.anchors, .work = survey.work};
    if (survey.work > S_WORK_MAX || !s_walk (root, &walk, 0))
        return s_fail (ctx, 1, NULL,
                       "aliases expand the study file past %d nodes, %d "
                       "levels or %d comparisons",
                       S_EXPANDED_MAX, S_DEPTH_MAX, S_WORK_MAX);
    s_yaml_free (yaml);
    if (s_yaml_load (ctx, yaml, text, len, flags, diag))
        return -1;
    if (fy_document_resolve (yaml->doc)) {
        s_diag_fail (ctx, diag);
        return -1;
    }
    return 0;
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);
    return n >= m && !strcmp (s + n - m, suffix);
}

hpo_spec_t *
hpo_spec_parse (const char *text, size_t len, const char *filename,
                char **error)
{
    assert (text || len == 0);
    assert (error);
    *error = NULL;
    s_ctx_t ctx = {.file = filename && *filename ? filename : "<study>",
                   .text = text ? text : "",
                   .len = len};
    hpo_spec_t *self = NULL;

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default (&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = s_diag_output;
    dcfg.user = &ctx;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create (&dcfg);
    if (!diag)
        abort (); //  only fails when out of memory
    fy_diag_set_collect_errors (diag, true);

    enum fy_parse_cfg_flags flags =
        FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 |
        (filename && s_ends_with (filename, ".json") ? FYPCF_JSON_FORCE
                                                     : FYPCF_JSON_NONE);
    s_yaml_t yaml = {0};
    if (s_load (&ctx, &yaml, text ? text : "", len, flags, diag) == 0) {
        self = hpo_calloc (1, sizeof *self);
        if (s_parse_study (&ctx, fy_document_root (yaml.doc), self))
            hpo_spec_destroy (&self);
    }
    s_yaml_free (&yaml);
    fy_diag_destroy (diag);
    free (ctx.diag);
    for (size_t k = 0; k < ctx.n_owned; k++)
        free (ctx.owned[k]);
    free (ctx.owned);
    if (!self) {
        assert (ctx.error);
        *error = ctx.error;
    }
    return self;
}

void
hpo_spec_destroy (hpo_spec_t **self_p)
{
    assert (self_p);
    hpo_spec_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->n_params; k++) {
        hpo_param_spec_t *p = &self->params[k];
        free (p->name);
        hpo_values_clear (p->values, p->n_values);
        free (p->values);
        hpo_values_clear (p->when_values, p->n_when_values);
        free (p->when_values);
        free (p->value_slots);
    }
    free (self->params);
    if (self->sampler.config && self->sampler.ops->config_free)
        self->sampler.ops->config_free (self->sampler.config);
    if (self->pruner.config && self->pruner.ops->config_free)
        self->pruner.ops->config_free (self->pruner.config);
    if (self->pruner.wrapped_config && self->pruner.wrapped_ops->config_free)
        self->pruner.wrapped_ops->config_free (self->pruner.wrapped_config);
    free (self->name);
    free (self->command);
    free (self->metric);
    free (self->workdir);
    free (self->metrics_pattern);
    for (size_t k = 0; k < self->n_env; k++)
        free (self->env[k]);
    free (self->env);
    free (self);
    *self_p = NULL;
}

int
hpo_spec_active (const hpo_spec_t *self, size_t k, const hpo_value_t *row)
{
    assert (k < self->n_params);
    const hpo_param_spec_t *p = &self->params[k];
    if (p->when_param < 0)
        return 1;
    assert ((size_t)p->when_param < k);
    const hpo_value_t *v = &row[p->when_param];
    if (v->kind == HPO_KIND_NONE)
        return 0; //  what it depends on does not exist either
    for (size_t j = 0; j < p->n_when_values; j++) {
        const hpo_value_t *w = &p->when_values[j];
        if (w->kind == HPO_KIND_STR ? v->kind == HPO_KIND_STR &&
                                          !strcmp (v->s, w->s)
                                    : v->kind != HPO_KIND_STR && v->f == w->f)
            return 1;
    }
    return 0;
}

int64_t
hpo_param_value_index (const hpo_param_spec_t *p, const hpo_value_t *v)
{
    if (!p->value_slots) {
        for (size_t k = 0; k < p->n_values; k++)
            if (hpo_space_value_eq (&p->values[k], v))
                return (int64_t)k;
        return -1;
    }
    size_t mask = p->n_value_slots - 1;
    for (size_t i = (size_t)hpo_space_row_hash (v, 1) & mask;;
         i = (i + 1) & mask) {
        uint32_t slot = p->value_slots[i];
        if (slot == 0)
            return -1;
        if (hpo_space_value_eq (&p->values[slot - 1], v))
            return (int64_t)slot - 1;
    }
}

int
hpo_spec_param_index (const hpo_spec_t *self, const char *name)
{
    assert (self);
    for (size_t k = 0; k < self->n_params; k++)
        if (!strcmp (self->params[k].name, name))
            return (int)k;
    return -1;
}

uint64_t
hpo_param_grid_count (const hpo_param_spec_t *p)
{
    assert (p);
    if (p->values)
        return p->n_values;
    if (p->type == HPO_PARAM_INT) {
        //  Validated ints lie within +-2^53, so the difference fits.
        int64_t step = p->has_step ? (int64_t)p->step : 1;
        return (uint64_t)(((int64_t)p->high - (int64_t)p->low) / step) + 1;
    }
    if (p->type == HPO_PARAM_FLOAT && p->has_step) {
        //  (high - low) / step is rarely exact in binary: 1 / 0.1 may come
        //  out a hair under 10. A relative tolerance keeps high a point.
        double ratio = (p->high - p->low) / p->step * (1 + 1e-9);
        if (!(ratio < 1e18))
            return UINT64_MAX;
        return (uint64_t)floor (ratio) + 1;
    }
    return 0;
}

// ---------------------------------------------------------------------
//  Durations

int
hpo_duration_parse (const char *text, uint64_t *ms)
{
    assert (ms);
    if (!text || !*text)
        return -1;
    static const struct {
        const char *unit;
        double ms;
    } units[] = {
        //  "ms" before "m", so the longer match wins.
        {"ms", 1},          {"s", 1000},         {"m", 60 * 1000},
        {"h", 3600 * 1000}, {"d", 86400 * 1000},
    };
    double total = 0;
    const char *p = text;
    bool plain_number = true;
    while (*p) {
        size_t int_digits = strspn (p, "0123456789");
        size_t frac_digits = 0;
        if (p[int_digits] == '.')
            frac_digits = strspn (p + int_digits + 1, "0123456789");
        if (int_digits + frac_digits == 0)
            return -1;
        size_t span = int_digits + (p[int_digits] == '.' ? 1 + frac_digits : 0);
        char number[64];
        if (span >= sizeof number)
            return -1;
        memcpy (number, p, span);
        number[span] = 0;
        double value = strtod (number, NULL);
        p += span;
        if (!*p && plain_number) {
            total = value * 1000; //  a bare number counts seconds
            break;
        }
        plain_number = false;
        size_t k = 0, n_units = sizeof units / sizeof units[0];
        while (k < n_units &&
               strncmp (p, units[k].unit, strlen (units[k].unit)))
            k++;
        if (k == n_units)
            return -1;
        total += value * units[k].ms;
        p += strlen (units[k].unit);
    }
    //  Beyond 2^63 ms (292 million years) a duration is a typo.
    if (!(total < 9.2e18))
        return -1;
    *ms = (uint64_t)llround (total);
    return 0;
}
