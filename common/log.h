/* Logging: log_debug/info/warn/error with file, function and line, filterable per module.
 *
 * MACHINE_LOG selects levels: "debug" (all modules) or "provision:debug,store:info,warn"
 * (per module, with an optional default). Each folder's library is compiled with
 * -DMC_LOG_MODULE="<folder>". Lines go to stderr as text, or as JSON lines when
 * mc_log_set_json(true) (the engine). Never log secrets; quote user strings as '%s'. */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "cleanup.h"

#ifndef MC_LOG_MODULE
#define MC_LOG_MODULE "machine"
#endif

enum mc_log_level {
    MC_LOG_DEBUG,
    MC_LOG_INFO,
    MC_LOG_WARN,
    MC_LOG_ERROR,
    MC_LOG_OFF,
};

/* Sets the program name shown in text lines and reads MACHINE_LOG. */
void mc_log_init(const char *progname);
/* Sets the default level for modules that MACHINE_LOG does not name. */
void mc_log_set_level(enum mc_log_level level);
/* Parses a MACHINE_LOG-style spec; returns -1 on a malformed one (nothing is changed). */
int mc_log_parse_spec(const char *spec);
void mc_log_set_json(bool json);
/* Sends lines to f instead of stderr (f stays owned by the caller). */
void mc_log_set_stream(FILE *f);
bool mc_log_enabled(enum mc_log_level level, const char *module);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 for anything else. */
int mc_log_level_from_string(const char *s);

void mc_log_write(enum mc_log_level level, const char *module, const char *file, int line,
                  const char *func, const char *fmt, ...) _printf_(6, 7);

#define mc_log(level, ...)                                                                 \
    do {                                                                                   \
        if (mc_log_enabled(level, MC_LOG_MODULE))                                          \
            mc_log_write(level, MC_LOG_MODULE, __FILE__, __LINE__, __func__, __VA_ARGS__); \
    } while (0)

#define log_debug(...) mc_log(MC_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  mc_log(MC_LOG_INFO, __VA_ARGS__)
#define log_warn(...)  mc_log(MC_LOG_WARN, __VA_ARGS__)
#define log_error(...) mc_log(MC_LOG_ERROR, __VA_ARGS__)

#endif
