/*  guard.h: runs a piece of untrusted-input work in a short-lived child
    process first, so that a bug in a library we do not own cannot take
    the coordinator down.

    Why: study files arrive from the network and are parsed by libfyaml.
    Fuzzing found inputs on which libfyaml 0.7.12 (Debian 12) crashes or
    spins; spec.c refuses the ones we know of before libfyaml sees them,
    but the next one would stop the coordinator, and since the file would
    be stored, stop it again at every restart. So the coordinator parses
    a submitted study in a child first, under a CPU and a wall-clock
    limit; only if the child parsed it cleanly (or refused it with an
    error) does the coordinator parse it itself. A crash or a hang is
    reported to the client as a refusal naming it.

    The child is forked from a threaded process (ZeroMQ's I/O threads): it
    runs only the work function, which must not touch sockets, and leaves
    with _exit, so no atexit handler or sanitizer leak check runs there.  */
#ifndef HPO_GUARD_H
#define HPO_GUARD_H

#include <stdint.h>

//  The work: returns 0, or -1 with *error set to a malloc'd message.
typedef int (hpo_guard_fn) (void *arg, char **error);

//  Runs fn (arg) in a child process, at most timeout_ms of wall time
//  (and as much CPU time, rounded up to a second). Returns 0 if it
//  returned 0; -1 with *error set (malloc'd) if it returned an error
//  (its message), crashed ("... crashed (killed by signal 11 (SIGSEGV))")
//  or ran out of time ("... took longer than N ms"); what names the work
//  in those messages ("the study-file parser"). If no child can be made
//  (out of processes or memory), runs nothing and returns 1: the caller
//  decides whether to do the work unguarded.
int hpo_guard_run (hpo_guard_fn *fn, void *arg, const char *what,
                   uint32_t timeout_ms, char **error);

#endif
