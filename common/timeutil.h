/* Clocks and time formats. */
#ifndef MC_TIMEUTIL_H
#define MC_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Milliseconds on the monotonic clock. */
int64_t mc_now_ms(void);
/* Nanoseconds since the epoch on the real-time clock. */
int64_t mc_realtime_ns(void);
/* RFC 3339 in UTC: "2026-11-30T09:17:00Z", or with nanoseconds "…00.123456789Z" when nanos. */
const char *mc_format_rfc3339(int64_t ns, bool nanos, char *buf, size_t len);
/* Parses RFC 3339 (any fraction, Z or ±hh:mm) into ns since the epoch. */
int mc_parse_rfc3339(const char *s, int64_t *ret_ns);
/* A time as the docker CLI sends since= and until=: RFC 3339, or seconds since the epoch with
 * an optional fraction ("1700000000.5"), into ns since the epoch. -1 when it is neither. */
int mc_parse_unix_time(const char *s, int64_t *ret_ns);
/* A duration in ns as "3 seconds", "About a minute", "2 hours": docker's HumanDuration
 * (go-units), the same thresholds and rounding. */
const char *mc_human_duration(int64_t ns, char *buf, size_t len);
/* Sleeps ms milliseconds (restarts on EINTR). */
void mc_sleep_ms(int64_t ms);

#endif
