/*  test_command.c: command templates, split like a shell without one, and
    quoted for /bin/sh when a study asks for a shell.                    */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/command.h"
#include "common/spec.h"
#include "testutil.h"

static char *s_names[] = {"lr", "opt", "n", "s"};
static hpo_value_t s_values[4];

static void
s_setup (void)
{
    s_values[0] = (hpo_value_t){.kind = HPO_KIND_FLOAT, .f = 0.001};
    s_values[1] = (hpo_value_t){.kind = HPO_KIND_STR, .s = "adam w"};
    s_values[2] = (hpo_value_t){.kind = HPO_KIND_INT, .i = 3, .f = 3};
    s_values[3] = (hpo_value_t){.kind = HPO_KIND_STR, .s = "it's $HOME"};
}

//  Checks that tmpl splits into exactly the words given, NULL-terminated.
static void
s_argv_is (const char *tmpl, const char *const *expect, int line)
{
    char *error = NULL;
    char **argv = hpo_command_argv (tmpl, s_names, s_values, 4, &error);
    t_checks++;
    int ok = argv != NULL && error == NULL;
    size_t k = 0;
    for (; ok && expect[k]; k++)
        ok = argv[k] && !strcmp (argv[k], expect[k]);
    ok = ok && argv[k] == NULL;
    if (!ok) {
        fprintf (stderr, "%s:%d: template [%s] gave", __FILE__, line, tmpl);
        for (size_t j = 0; argv && argv[j]; j++)
            fprintf (stderr, " [%s]", argv[j]);
        fprintf (stderr, "%s%s\n", error ? " error: " : "", error ? error : "");
        t_failures++;
    }
    free (error);
    hpo_command_free (&argv);
    CHECK (argv == NULL);
}
#define ARGV_IS(tmpl, ...)                                                     \
    do {                                                                       \
        const char *t_expect[] = {__VA_ARGS__, NULL};                          \
        s_argv_is (tmpl, t_expect, __LINE__);                                  \
    } while (0)

//  Checks that tmpl is refused by check, argv and shell alike.
static void
s_refused (const char *tmpl, const char *expect, int line)
{
    char *error = NULL;
    int rc = hpo_command_check (tmpl, s_names, 4, &error);
    t_checks++;
    if (rc != -1 || !error || !strstr (error, expect)) {
        fprintf (stderr, "%s:%d: [%s] expected \"%s\", got %s\n", __FILE__,
                 line, tmpl, expect, error ? error : "success");
        t_failures++;
    }
    free (error);
    error = NULL;
    char **argv = hpo_command_argv (tmpl, s_names, s_values, 4, &error);
    CHECK (argv == NULL);
    CHECK_CONTAINS (error, expect);
    free (error);
    error = NULL;
    char *text = hpo_command_shell (tmpl, s_names, s_values, 4, &error);
    CHECK (text == NULL);
    CHECK_CONTAINS (error, expect);
    free (error);
}
#define REFUSED(tmpl, expect) s_refused (tmpl, expect, __LINE__)

static void
s_test_split (void)
{
    ARGV_IS ("python3 train.py", "python3", "train.py");
    ARGV_IS ("  a \t b\n c  ", "a", "b", "c");
    ARGV_IS ("echo 'a b' \"c d\"", "echo", "a b", "c d");
    ARGV_IS ("echo a'b c'd", "echo", "ab cd");
    ARGV_IS ("echo '' \"\"", "echo", "", "");
    ARGV_IS ("echo a\\ b \\'q\\' \\\\", "echo", "a b", "'q'", "\\");
    //  Inside double quotes only $ ` " \ and newline are escapable.
    ARGV_IS ("echo \"a\\\"b\" \"\\$x\" \"\\n\"", "echo", "a\"b", "$x", "\\n");
    //  Inside single quotes nothing is.
    ARGV_IS ("echo 'a\\b' 'x\"y'", "echo", "a\\b", "x\"y");
    //  Backslash-newline joins lines.
    ARGV_IS ("echo a\\\nb", "echo", "ab");
    //  No expansion of any kind: no variables, globs, pipes or comments.
    ARGV_IS ("echo $HOME *.py | wc # x; y", "echo", "$HOME", "*.py", "|", "wc",
             "#", "x;", "y");
}

static void
s_test_placeholders (void)
{
    ARGV_IS ("train --lr {lr} --layers {n}", "train", "--lr", "0.001",
             "--layers", "3");
    //  A value with spaces stays one argument, wherever it lands.
    ARGV_IS ("train --opt {opt}", "train", "--opt", "adam w");
    ARGV_IS ("train --opt={opt}", "train", "--opt=adam w");
    ARGV_IS ("train {s}", "train", "it's $HOME");
    //  Placeholders work inside either kind of quotes too.
    ARGV_IS ("train '--opt {opt}' \"n={n}\"", "train", "--opt adam w", "n=3");
    ARGV_IS ("train {lr}{n}x", "train", "0.0013x");
    //  {{ and }} are literal braces; so are escaped ones.
    ARGV_IS ("awk '{{print $1}}' {n}", "awk", "{print $1}", "3");
    ARGV_IS ("echo {{n}} \\{n\\}", "echo", "{n}", "{n}");
    ARGV_IS ("echo {{{n}}}", "echo", "{3}");
    //  A placeholder alone makes a word even when its value is empty.
    hpo_value_t saved = s_values[1];
    s_values[1] = (hpo_value_t){.kind = HPO_KIND_STR, .s = ""};
    ARGV_IS ("train {opt} x", "train", "", "x");
    s_values[1] = saved;
}

static void
s_test_errors (void)
{
    REFUSED ("train --lr {lrr}", "unknown placeholder {lrr}");
    REFUSED ("echo ${HOME}", "unknown placeholder {HOME}");
    REFUSED ("train 'oops", "unterminated ' quote");
    REFUSED ("train \"oops", "unterminated \" quote");
    REFUSED ("train {lr", "unmatched '{'");
    REFUSED ("train {l r}", "unmatched '{'");
    REFUSED ("train lr}", "unmatched '}'");
    REFUSED ("train {}", "empty placeholder {}");
    REFUSED ("train {1x}", "bad placeholder {1x}");
    REFUSED ("train \\", "ends with a backslash");
    REFUSED ("", "empty command");
    REFUSED (" \n\t", "empty command");

    //  Check needs no values, and a NULL error pointer is allowed.
    char *error = NULL;
    CHECK (hpo_command_check ("train {lr} {opt}", s_names, 2, &error) == 0);
    CHECK (error == NULL);
    CHECK (hpo_command_check ("train {n}", s_names, 2, &error) == -1);
    CHECK_STR (error, "unknown placeholder {n}");
    free (error);
    CHECK (hpo_command_check ("train {n}", s_names, 2, NULL) == -1);
    CHECK (hpo_command_check ("train", NULL, 0, NULL) == 0);
    char **argv = NULL;
    hpo_command_free (&argv); //  safe on NULL
}

//  Runs text with /bin/sh -c and returns what it printed.
static char *
s_sh (const char *text)
{
    int fds[2];
    if (pipe (fds))
        return NULL;
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (fds[1], 1);
        close (fds[0]);
        close (fds[1]);
        execl ("/bin/sh", "sh", "-c", text, (char *)NULL);
        _exit (127);
    }
    close (fds[1]);
    static char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 &&
           (n = read (fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    close (fds[0]);
    int status;
    waitpid (pid, &status, 0);
    return buf;
}

static void
s_shell_is (const char *tmpl, const char *expect, const char *printed, int line)
{
    char *error = NULL;
    char *text = hpo_command_shell (tmpl, s_names, s_values, 4, &error);
    t_checks++;
    if (!text || strcmp (text, expect)) {
        fprintf (stderr, "%s:%d: [%s] gave [%s], want [%s]\n", __FILE__, line,
                 tmpl, text ? text : error, expect);
        t_failures++;
    }
    //  And the shell must see exactly the values, nothing injected.
    if (text && printed) {
        const char *out = s_sh (text);
        t_checks++;
        if (!out || strcmp (out, printed)) {
            fprintf (stderr, "%s:%d: sh -c [%s] printed [%s], want [%s]\n",
                     __FILE__, line, text, out ? out : "?", printed);
            t_failures++;
        }
    }
    free (text);
    free (error);
}
#define SHELL_IS(tmpl, expect, printed)                                        \
    s_shell_is (tmpl, expect, printed, __LINE__)

static void
s_test_shell (void)
{
    SHELL_IS ("./train --lr {lr} --n {n} > out.txt",
              "./train --lr '0.001' --n '3' > out.txt", NULL);
    //  A value holding a single quote uses the '\'' trick.
    SHELL_IS ("printf '%s\\n' {s}", "printf '%s\\n' 'it'\\''s $HOME'",
              "it's $HOME\n");
    SHELL_IS ("printf '%s\\n' {opt}", "printf '%s\\n' 'adam w'", "adam w\n");
    //  Inside single quotes the value is spliced in, not re-quoted.
    SHELL_IS ("printf '%s\\n' 'x={s}'", "printf '%s\\n' 'x=it'\\''s $HOME'",
              "x=it's $HOME\n");
    //  Inside double quotes we step out of them, so $ stays inert.
    SHELL_IS ("printf '%s\\n' \"x={s}\"",
              "printf '%s\\n' \"x=\"'it'\\''s $HOME'\"\"", "x=it's $HOME\n");
    //  The template's own shell syntax is left alone; {{ }} are braces.
    SHELL_IS ("for i in 1 2; do printf \"$i{{}}\"; done",
              "for i in 1 2; do printf \"$i{}\"; done", "1{}2{}");
    SHELL_IS ("echo \\{n\\} {n}", "echo \\{n\\} '3'", "{n} 3\n");
    SHELL_IS ("echo \"a\\\"{n}\"", "echo \"a\\\"\"'3'\"\"", "a\"3\n");
}

//  Placeholders are looked up among sorted names, not by a scan of every
//  name for each placeholder: a name that is a prefix of another, a repeated
//  name (the first wins, as before), and 1024 names with a placeholder for
//  each.
static void
s_test_lookup (void)
{
    char *names[] = {"ab", "a", "abc", "a", "b"};
    hpo_value_t values[5];
    for (int k = 0; k < 5; k++)
        values[k] = (hpo_value_t){.kind = HPO_KIND_INT, .i = k, .f = k};
    char *error = NULL;
    char **argv =
        hpo_command_argv ("x {a} {ab} {abc} {b}", names, values, 5, &error);
    CHECK (argv && !error);
    if (argv) {
        CHECK_STR (argv[1], "1");
        CHECK_STR (argv[2], "0");
        CHECK_STR (argv[3], "2");
        CHECK_STR (argv[4], "4");
    }
    hpo_command_free (&argv);
    CHECK (hpo_command_check ("x {abcd}", names, 5, &error) == -1);
    CHECK_STR (error, "unknown placeholder {abcd}");
    free (error);
    CHECK (hpo_command_check ("x {}", names, 0, &error) == -1);
    free (error);
    CHECK (hpo_command_check ("x {a}", NULL, 0, &error) == -1);
    CHECK_STR (error, "unknown placeholder {a}");
    free (error);

    enum { N = 1024 };
    char **many = calloc (N, sizeof *many);
    hpo_value_t *many_values = calloc (N, sizeof *many_values);
    char *tmpl = malloc (N * 16 + 8);
    size_t len = (size_t)sprintf (tmpl, "run");
    for (int k = 0; k < N; k++) {
        many[k] = malloc (16);
        snprintf (many[k], 16, "p%d", (k * 7919) % N);
        many_values[k] = (hpo_value_t){.kind = HPO_KIND_INT, .i = k, .f = k};
        len += (size_t)sprintf (tmpl + len, " {p%d}", k);
    }
    argv = hpo_command_argv (tmpl, many, many_values, N, &error);
    CHECK (argv && !error);
    //  p<j> is name k where j = 7919 k mod 1024, and its value is k.
    for (int k = 0; argv && k < N; k += 97) {
        char expect[16];
        snprintf (expect, sizeof expect, "%d", k);
        CHECK_STR (argv[1 + (k * 7919) % N], expect);
    }
    hpo_command_free (&argv);
    for (int k = 0; k < N; k++)
        free (many[k]);
    free (many);
    free (many_values);
    free (tmpl);
}

//  A parameter absent from the trial (HPO_KIND_NONE) takes the word that
//  holds its placeholder with it, in argv and in shell text alike.
static void
s_test_absent (void)
{
    hpo_value_t saved = s_values[2];
    s_values[2] = (hpo_value_t){.kind = HPO_KIND_NONE};
    ARGV_IS ("train --n={n} --lr {lr}", "train", "--lr", "0.001");
    ARGV_IS ("train '--n {n}' x{n}y \\{n\\}", "train", "{n}");
    ARGV_IS ("train {n}", "train");
    ARGV_IS ("train \\\n  --n={n} \\\n  --opt={opt}", "train", "--opt=adam w");
    SHELL_IS ("printf '%s\\n' --n={n} {lr} ; echo \"n={n}\"",
              "printf '%s\\n'  '0.001' ; echo ", "0.001\n\n");
    SHELL_IS ("echo {lr}{n}", "echo ", "\n");
    //  Nothing left to run is an error, not an empty argv.
    char *error = NULL;
    CHECK (hpo_command_argv ("{n}", s_names, s_values, 4, &error) == NULL);
    CHECK_CONTAINS (error, "empty command");
    free (error);
    error = NULL;
    CHECK (hpo_command_shell (" {n} ", s_names, s_values, 4, &error) == NULL);
    CHECK_CONTAINS (error, "empty command");
    free (error);
    s_values[2] = saved;
}

//  Builds a spec of opt and momentum (when opt is sgd) for the check.
static void
s_when_is (const char *tmpl, const char *expect, int line)
{
    hpo_param_spec_t params[2] = {{.name = "opt", .when_param = -1},
                                  {.name = "momentum", .when_param = 0}};
    hpo_spec_t spec = {.params = params, .n_params = 2};
    char *error = NULL;
    int rc = hpo_command_check_when (tmpl, &spec, &error);
    t_checks++;
    if (expect ? rc != -1 || !error || !strstr (error, expect)
               : rc != 0 || error) {
        fprintf (stderr, "%s:%d: [%s] expected %s, got %s\n", __FILE__, line,
                 tmpl, expect ? expect : "success", error ? error : "success");
        t_failures++;
    }
    free (error);
}
#define WHEN_IS(tmpl, expect) s_when_is (tmpl, expect, __LINE__)

static void
s_test_check_when (void)
{
    WHEN_IS ("train --momentum={momentum} --opt {opt}", NULL);
    WHEN_IS ("train --opt {opt} {momentum}", NULL);
    WHEN_IS ("train -- {momentum}", NULL);
    WHEN_IS ("train -1 {momentum}", NULL);
    WHEN_IS ("train --m=1 {momentum}", NULL);
    WHEN_IS ("train --momentum {momentum}",
             "parameter momentum exists in some trials only");
    WHEN_IS ("train --momentum {momentum}", "write --momentum={momentum}");
    WHEN_IS ("train -m '{momentum}'", "write -m={momentum}");
    WHEN_IS ("train --opt {opt} -m \\\n {momentum} --x", "after -m");
    //  Without conditions the same template is fine, and the plain
    //  checks still run.
    char *names[] = {"opt", "momentum"};
    CHECK (hpo_command_check ("train --momentum {momentum}", names, 2, NULL) ==
           0);
    WHEN_IS ("train --momentum {mom}", "unknown placeholder {mom}");

    //  The study-file parser runs the check, and says where.
    const char *text =
        "name: s\n"
        "command: train --opt={opt} --momentum {momentum}\n"
        "objective: {metric: loss}\n"
        "budget: {trials: 4}\n"
        "space:\n"
        "  opt: {type: categorical, values: [sgd, adam]}\n"
        "  momentum: {type: float, low: 0, high: 1, when: {opt: sgd}}\n";
    char *error = NULL;
    hpo_spec_t *spec = hpo_spec_parse (text, strlen (text), "s.yaml", &error);
    CHECK (spec == NULL);
    CHECK_CONTAINS (error, "s.yaml:2: command: parameter momentum exists in "
                           "some trials only");
    CHECK_CONTAINS (error, "write --momentum={momentum}");
    free (error);
    hpo_spec_destroy (&spec);
}

int
main (void)
{
    s_setup ();
    s_test_split ();
    s_test_placeholders ();
    s_test_errors ();
    s_test_shell ();
    s_test_lookup ();
    s_test_absent ();
    s_test_check_when ();
    TEST_DONE ();
}
