/*  replay.c: a main for the fuzz targets in builds without libFuzzer (gcc,
    the plain and sanitized test builds). It runs the target once on each
    file named, or on each file in each directory named, so the seed
    corpora and every crash ever found (tests/fuzz/regressions/) stay
    tests in every build. An input that runs past S_TIMEOUT_S is a hang,
    and aborts. Options (libFuzzer's, "-runs=0") are ignored.
    Exits 0 when every input ran; a bug aborts.    */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"

//  Longest one input may run: as libFuzzer's -timeout, a hang is a bug.
#define S_TIMEOUT_S 20

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));

static void
s_on_alarm (int sig)
{
    static const char msg[] = "replay: the input above ran past the "
                              "timeout: a hang\n";
    if (write (2, msg, sizeof msg - 1) < 0) {
        //  Nothing more to say.
    }
    abort ();
}

static int
s_run_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        perror (path);
        return -1;
    }
    size_t cap = 4096, size = 0;
    uint8_t *data = hpo_malloc (cap);
    size_t got;
    while ((got = fread (data + size, 1, cap - size, f)) > 0) {
        size += got;
        if (size == cap)
            data = hpo_realloc (data, cap *= 2);
    }
    fclose (f);
    //  Exact size, as libFuzzer hands it: a read past the end is caught.
    uint8_t *exact = hpo_malloc (size ? size : 1);
    memcpy (exact, data, size);
    free (data);
    fprintf (stderr, "replay: %s (%zu bytes)\n", path, size);
    alarm (S_TIMEOUT_S);
    LLVMFuzzerTestOneInput (exact, size);
    alarm (0);
    free (exact);
    return 0;
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

int
main (int argc, char **argv)
{
    signal (SIGALRM, s_on_alarm);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize (&argc, &argv);
    int failed = 0, runs = 0;
    for (int k = 1; k < argc; k++) {
        if (argv[k][0] == '-')
            continue; //  a libFuzzer option (-runs=0)
        struct stat st;
        if (stat (argv[k], &st) != 0) {
            perror (argv[k]);
            failed = 1;
            continue;
        }
        if (!S_ISDIR (st.st_mode)) {
            failed |= s_run_file (argv[k]) != 0;
            runs++;
            continue;
        }
        DIR *dir = opendir (argv[k]);
        if (!dir) {
            perror (argv[k]);
            failed = 1;
            continue;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir (dir)))
            if (de->d_name[0] != '.') {
                names = hpo_realloc (names, (n + 1) * sizeof *names);
                names[n++] = hpo_sprintf ("%s/%s", argv[k], de->d_name);
            }
        closedir (dir);
        if (n > 0)
            qsort (names, n, sizeof *names, s_by_name);
        for (size_t j = 0; j < n; j++) {
            if (stat (names[j], &st) == 0 && S_ISREG (st.st_mode)) {
                failed |= s_run_file (names[j]) != 0;
                runs++;
            }
            free (names[j]);
        }
        free (names);
    }
    fprintf (stderr, "replay: %d inputs, %s\n", runs,
             failed ? "some unreadable" : "all ran");
    return failed;
}
