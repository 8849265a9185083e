/*  clock.h: time. The scheduler never reads a clock itself: every call that
    depends on time takes now_ms, so lease tests move time by hand instead
    of sleeping.                                                           */
#ifndef HPO_CLOCK_H
#define HPO_CLOCK_H

#include <stdint.h>

//  Monotonic milliseconds (CLOCK_MONOTONIC): deadlines and intervals.
int64_t hpo_clock_mono_ms (void);
//  Wall-clock seconds since the epoch, for records people read.
double hpo_clock_wall (void);

#endif
