/*  command.c: command templates.

    One scanner serves all three uses (check, argv, shell), so the three
    can never disagree about where a quote ends or what a placeholder is.
    It walks the template once, tracking the quoting state the way a POSIX
    shell's tokenizer does, and at every {name} either appends the value
    to the current word (argv) or writes it quoted for that state (shell).
    Substituting while splitting, not before, is what keeps a value with
    spaces or quotes in it one argument: its characters are never scanned. */
#include "command.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "spec.h"

typedef enum { S_CHECK, S_ARGV, S_SHELL } s_mode_t;
typedef enum { S_UNQUOTED, S_SINGLE, S_DOUBLE } s_quote_t;

typedef struct {
    char *data;
    size_t len, cap;
} s_buf_t;

//  A name to look placeholders up by: the names sorted, so that a
//  template of many placeholders over many parameters is not their
//  product in comparisons.
typedef struct {
    const char *name;
    size_t len;
    size_t index;
} s_name_t;

typedef struct {
    s_mode_t mode;
    char *const *names;
    const hpo_value_t *values; //  NULL when checking
    size_t n;
    //  Checking only, may be NULL: conditional[k] nonzero when parameter
    //  k exists in some trials only (spec.h's when:).
    const int *conditional;
    s_name_t *sorted; //  names by (name, index)
    s_buf_t out;      //  argv and check: the current word; shell: all
    bool in_word;
    size_t word_start; //  shell: where the current word begins in out
    bool drop;         //  the current word holds an absent parameter
    size_t holders;    //  placeholders in the current word
    size_t holder;     //  the last one's parameter
    char *option;      //  check: the previous word, if a bare option
    size_t words;
    size_t kept; //  argv and shell: words not dropped
    char **argv;
    size_t argc, argv_cap;
    char *error;
} s_scan_t;

static void
s_buf_add (s_buf_t *buf, const char *s, size_t n)
{
    if (buf->len + n + 1 > buf->cap) {
        buf->cap = (buf->len + n + 1) * 2;
        buf->data = hpo_realloc (buf->data, buf->cap);
    }
    memcpy (buf->data + buf->len, s, n);
    buf->len += n;
    buf->data[buf->len] = 0;
}

static void
s_buf_addc (s_buf_t *buf, char c)
{
    s_buf_add (buf, &c, 1);
}

//  A word's characters after quote removal: argv's result, and what a
//  check looks at (placeholders are not added there).
static void
s_word_add (s_scan_t *self, const char *s, size_t n)
{
    if (self->mode != S_SHELL)
        s_buf_add (&self->out, s, n);
}

//  Template text copied as is in shell mode (quotes, escapes, blanks).
static void
s_raw_add (s_scan_t *self, const char *s, size_t n)
{
    if (self->mode == S_SHELL)
        s_buf_add (&self->out, s, n);
}

//  Marks the start of a word, if one is not under way.
static void
s_word_begin (s_scan_t *self)
{
    if (self->in_word)
        return;
    self->in_word = true;
    self->word_start = self->out.len;
    self->drop = false;
    self->holders = 0;
}

static int
s_fail (s_scan_t *self, char *message)
{
    self->error = message;
    return -1;
}

//  Whether the word in out (a check's word, placeholders left out) is an
//  option that takes the next word as its value: "-x" or "--name", with
//  no '=' and no placeholder of its own. "--" ends options.
static bool
s_bare_option (const s_scan_t *self)
{
    const char *w = self->out.data;
    size_t len = self->out.len;
    if (self->holders || len < 2 || w[0] != '-' || !strcmp (w, "--"))
        return false;
    if (!((w[1] >= 'a' && w[1] <= 'z') || (w[1] >= 'A' && w[1] <= 'Z') ||
          w[1] == '-'))
        return false; //  "-1" is a number, not an option
    return memchr (w, '=', len) == NULL;
}

//  Checking with conditions: a word that is only the placeholder of a
//  conditional parameter, right after a bare option, would be dropped in
//  the trials without it and leave the option to take the next word.
static int
s_check_word (s_scan_t *self)
{
    char *option = self->option;
    self->option = s_bare_option (self)
                       ? hpo_strndup (self->out.data, self->out.len)
                       : NULL;
    int rc = 0;
    if (option && self->holders == 1 && self->out.len == 0 &&
        self->conditional[self->holder]) {
        const char *name = self->names[self->holder];
        rc = s_fail (
            self, hpo_sprintf ("parameter %s exists in some trials only, "
                               "and {%s} is a word of its own after %s: "
                               "where %s is absent its word is left out, "
                               "and %s would take the next word; "
                               "write %s={%s}",
                               name, name, option, name, option, option, name));
    }
    free (option);
    return rc;
}

static int
s_word_end (s_scan_t *self)
{
    if (!self->in_word)
        return 0;
    self->in_word = false;
    self->words++;
    if (self->mode == S_CHECK) {
        int rc = self->conditional ? s_check_word (self) : 0;
        self->out.len = 0;
        return rc;
    }
    //  A word that holds a parameter absent from this trial goes whole.
    if (self->drop) {
        self->out.len = self->word_start;
        if (self->out.data)
            self->out.data[self->out.len] = 0;
        return 0;
    }
    self->kept++;
    if (self->mode != S_ARGV)
        return 0;
    if (self->argc + 2 > self->argv_cap) {
        self->argv_cap = self->argv_cap ? self->argv_cap * 2 : 8;
        self->argv = hpo_realloc (self->argv, self->argv_cap * sizeof (char *));
    }
    self->argv[self->argc++] =
        hpo_strndup (self->out.data ? self->out.data : "", self->out.len);
    self->argv[self->argc] = NULL;
    self->out.len = 0;
    return 0;
}

//  Writes value v for /bin/sh in quoting state quote. Inside single quotes
//  every character but ' is literal, so ' becomes '\'' (close, escaped
//  quote, reopen). Elsewhere the value goes in its own single quotes, and
//  inside double quotes we first step out of them: "a'v'b" would keep the
//  single quotes literally and leave $ and ` live.
static void
s_shell_value (s_scan_t *self, const char *v, s_quote_t quote)
{
    if (quote == S_DOUBLE)
        s_buf_add (&self->out, "\"'", 2);
    else if (quote == S_UNQUOTED)
        s_buf_addc (&self->out, '\'');
    for (const char *p = v; *p; p++)
        if (*p == '\'')
            s_buf_add (&self->out, "'\\''", 4);
        else
            s_buf_addc (&self->out, *p);
    if (quote == S_DOUBLE)
        s_buf_add (&self->out, "'\"", 2);
    else if (quote == S_UNQUOTED)
        s_buf_addc (&self->out, '\'');
}

static bool
s_is_name_char (char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static int
s_name_cmp (const void *a, const void *b)
{
    const s_name_t *x = a, *y = b;
    int rc = memcmp (x->name, y->name, x->len < y->len ? x->len : y->len);
    if (rc == 0)
        rc = x->len < y->len ? -1 : x->len > y->len;
    if (rc == 0)
        rc = x->index < y->index ? -1 : x->index > y->index;
    return rc;
}

static void
s_sort_names (s_scan_t *self)
{
    self->sorted = hpo_calloc (self->n ? self->n : 1, sizeof (s_name_t));
    for (size_t k = 0; k < self->n; k++)
        self->sorted[k] =
            (s_name_t){self->names[k], strlen (self->names[k]), k};
    qsort (self->sorted, self->n, sizeof (s_name_t), s_name_cmp);
}

//  The index of the first of the names that is name (len bytes), or n.
static size_t
s_lookup (s_scan_t *self, const char *name, size_t len)
{
    size_t lo = 0, hi = self->n;
    //  The first entry not below (name, index 0).
    s_name_t key = {name, len, 0};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_name_cmp (&self->sorted[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < self->n && self->sorted[lo].len == len &&
        !memcmp (self->sorted[lo].name, name, len))
        return self->sorted[lo].index;
    return self->n;
}

//  Handles the brace at *pp: a literal "{{" or "}}", or a placeholder.
//  Advances *pp past what it consumed.
static int
s_brace (s_scan_t *self, const char **pp, s_quote_t quote)
{
    const char *p = *pp;
    s_word_begin (self);
    if (p[1] == p[0]) {
        s_word_add (self, p, 1);
        s_raw_add (self, p, 1);
        *pp = p + 2;
        return 0;
    }
    if (*p == '}')
        return s_fail (self, hpo_strdup ("unmatched '}' (write }} for a "
                                         "literal brace)"));
    const char *name = p + 1;
    size_t len = 0;
    while (s_is_name_char (name[len]))
        len++;
    if (name[len] != '}')
        return s_fail (self, hpo_strdup ("unmatched '{' (write {{ for a "
                                         "literal brace)"));
    if (len == 0)
        return s_fail (self, hpo_strdup ("empty placeholder {}"));
    if (name[0] >= '0' && name[0] <= '9')
        return s_fail (self,
                       hpo_sprintf ("bad placeholder {%.*s}", (int)len, name));
    size_t k = s_lookup (self, name, len);
    if (k == self->n)
        return s_fail (self, hpo_sprintf ("unknown placeholder {%.*s}",
                                          (int)(len > 64 ? 64 : len), name));
    self->holders++;
    self->holder = k;
    if (self->mode != S_CHECK && self->values[k].kind == HPO_KIND_NONE)
        self->drop = true; //  the word goes at its end: nothing to write
    else if (self->mode != S_CHECK) {
        char *v = hpo_value_format (&self->values[k]);
        if (self->mode == S_ARGV)
            s_word_add (self, v, strlen (v));
        else
            s_shell_value (self, v, quote);
        free (v);
    }
    *pp = name + len + 1;
    return 0;
}

static int
s_scan (s_scan_t *self, const char *tmpl)
{
    s_quote_t quote = S_UNQUOTED;
    const char *p = tmpl;
    while (*p) {
        char c = *p;
        if (c == '{' || c == '}') {
            if (s_brace (self, &p, quote))
                return -1;
            continue;
        }
        if (quote == S_SINGLE) {
            //  Nothing is special in single quotes but the closing one.
            if (c == '\'')
                quote = S_UNQUOTED;
            else
                s_word_add (self, p, 1);
            s_raw_add (self, p, 1);
            p++;
        } else if (quote == S_DOUBLE) {
            if (c == '"')
                quote = S_UNQUOTED;
            else if (c == '\\' && p[1] && strchr ("$`\"\\\n", p[1])) {
                //  The only escapes POSIX honours inside double quotes;
                //  before anything else the backslash stays.
                if (p[1] != '\n')
                    s_word_add (self, p + 1, 1);
                s_raw_add (self, p, 1);
                p++;
            } else
                s_word_add (self, p, 1);
            s_raw_add (self, p, 1);
            p++;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (s_word_end (self))
                return -1;
            s_raw_add (self, p, 1);
            p++;
        } else if (c == '\'' || c == '"') {
            quote = c == '\'' ? S_SINGLE : S_DOUBLE;
            //  '' is a word even though it adds no character.
            s_word_begin (self);
            s_raw_add (self, p, 1);
            p++;
        } else if (c == '\\') {
            if (!p[1])
                return s_fail (self, hpo_strdup ("ends with a backslash"));
            //  Backslash-newline joins lines; anything else escaped is
            //  itself, braces included.
            if (p[1] != '\n') {
                s_word_begin (self);
                s_word_add (self, p + 1, 1);
            }
            s_raw_add (self, p, 2);
            p += 2;
        } else {
            s_word_begin (self);
            s_word_add (self, p, 1);
            s_raw_add (self, p, 1);
            p++;
        }
    }
    if (quote != S_UNQUOTED)
        return s_fail (self, hpo_strdup (quote == S_SINGLE
                                             ? "unterminated ' quote"
                                             : "unterminated \" quote"));
    if (s_word_end (self))
        return -1;
    if (self->words == 0)
        return s_fail (self, hpo_strdup ("empty command"));
    if (self->mode != S_CHECK && self->kept == 0)
        return s_fail (self, hpo_strdup ("empty command once the words of "
                                         "absent parameters are left out"));
    return 0;
}

static void
s_scan_free (s_scan_t *self)
{
    free (self->sorted);
    free (self->option);
    free (self->out.data);
    for (size_t k = 0; k < self->argc; k++)
        free (self->argv[k]);
    free (self->argv);
}

static int
s_run (s_scan_t *self, const char *tmpl, char **error)
{
    assert (tmpl);
    assert (self->names || self->n == 0);
    if (error)
        *error = NULL;
    s_sort_names (self);
    if (s_scan (self, tmpl) == 0)
        return 0;
    if (error)
        *error = self->error;
    else
        free (self->error);
    return -1;
}

int
hpo_command_check (const char *tmpl, char *const *names, size_t n, char **error)
{
    s_scan_t scan = {.mode = S_CHECK, .names = names, .n = n};
    int rc = s_run (&scan, tmpl, error);
    s_scan_free (&scan);
    return rc;
}

int
hpo_command_check_when (const char *tmpl, const hpo_spec_t *spec, char **error)
{
    assert (spec);
    size_t n = spec->n_params;
    char **names = hpo_calloc (n ? n : 1, sizeof (char *));
    int *conditional = hpo_calloc (n ? n : 1, sizeof (int));
    for (size_t k = 0; k < n; k++) {
        names[k] = spec->params[k].name;
        conditional[k] = spec->params[k].when_param >= 0;
    }
    s_scan_t scan = {
        .mode = S_CHECK, .names = names, .n = n, .conditional = conditional};
    int rc = s_run (&scan, tmpl, error);
    s_scan_free (&scan);
    free (conditional);
    free (names);
    return rc;
}

char **
hpo_command_argv (const char *tmpl, char *const *names,
                  const hpo_value_t *values, size_t n, char **error)
{
    assert (values || n == 0);
    s_scan_t scan = {.mode = S_ARGV, .names = names, .values = values, .n = n};
    char **argv = NULL;
    if (s_run (&scan, tmpl, error) == 0) {
        argv = scan.argv;
        scan.argv = NULL;
        scan.argc = 0;
    }
    s_scan_free (&scan);
    return argv;
}

char *
hpo_command_shell (const char *tmpl, char *const *names,
                   const hpo_value_t *values, size_t n, char **error)
{
    assert (values || n == 0);
    s_scan_t scan = {.mode = S_SHELL, .names = names, .values = values, .n = n};
    char *text = NULL;
    if (s_run (&scan, tmpl, error) == 0) {
        text = scan.out.data;
        scan.out.data = NULL;
    }
    s_scan_free (&scan);
    return text;
}

void
hpo_command_free (char ***argv_p)
{
    assert (argv_p);
    char **argv = *argv_p;
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free (*p);
    free (argv);
    *argv_p = NULL;
}
