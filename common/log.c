#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "xalloc.h"

#define MAX_MODULE_RULES 32

struct module_rule {
    char name[32];
    enum mc_log_level level;
};

static struct {
    const char *progname;
    enum mc_log_level default_level;
    bool json;
    FILE *stream;
    size_t n_rules;
    struct module_rule rules[MAX_MODULE_RULES];
} logger = {
    .progname = "machine",
    .default_level = MC_LOG_WARN,
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
    [MC_LOG_DEBUG] = "debug", [MC_LOG_INFO] = "info", [MC_LOG_WARN] = "warn",
    [MC_LOG_ERROR] = "error", [MC_LOG_OFF] = "off",
};

int
mc_log_level_from_string(const char *s)
{
    for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
        if (strcmp(s, level_names[i]) == 0)
            return (int)i;
    if (strcmp(s, "warning") == 0)
        return MC_LOG_WARN;
    return -1;
}

int
mc_log_parse_spec(const char *spec)
{
    struct module_rule rules[MAX_MODULE_RULES];
    size_t n = 0;
    int dflt = -1;
    _cleanup_free_ char *copy = xstrdup(spec);
    char *save = NULL;

    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon) {
            dflt = mc_log_level_from_string(tok);
            if (dflt < 0)
                return -1;
            continue;
        }
        *colon = '\0';
        int level = mc_log_level_from_string(colon + 1);
        if (level < 0 || n >= MAX_MODULE_RULES || strlen(tok) >= sizeof(rules[0].name))
            return -1;
        snprintf(rules[n].name, sizeof(rules[n].name), "%s", tok);
        rules[n++].level = (enum mc_log_level)level;
    }

    pthread_mutex_lock(&log_lock);
    memcpy(logger.rules, rules, n * sizeof(rules[0]));
    logger.n_rules = n;
    if (dflt >= 0)
        logger.default_level = (enum mc_log_level)dflt;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void
mc_log_init(const char *progname)
{
    logger.progname = progname;
    const char *spec = getenv("MACHINE_LOG");
    if (spec && *spec && mc_log_parse_spec(spec) < 0)
        fprintf(stderr, "%s: ignoring malformed MACHINE_LOG '%s'\n", progname, spec);
}

void
mc_log_set_level(enum mc_log_level level)
{
    logger.default_level = level;
}

void
mc_log_set_json(bool json)
{
    logger.json = json;
}

void
mc_log_set_stream(FILE *f)
{
    logger.stream = f;
}

bool
mc_log_enabled(enum mc_log_level level, const char *module)
{
    for (size_t i = 0; i < logger.n_rules; i++)
        if (strcmp(logger.rules[i].name, module) == 0)
            return level >= logger.rules[i].level && level != MC_LOG_OFF;
    return level >= logger.default_level && level != MC_LOG_OFF;
}

static void
write_json(FILE *f, enum mc_log_level level, const char *module, const char *file, int line,
           const char *func, const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);

    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "time", when, "level",
                          level_names[level], "module", module, "msg", msg, "file", file, "line",
                          line, "func", func);
    if (!o)
        return;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s) {
        fprintf(f, "%s\n", s);
        free(s);
    }
}

void
mc_log_write(enum mc_log_level level, const char *module, const char *file, int line,
             const char *func, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);

    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;

    pthread_mutex_lock(&log_lock);
    FILE *f = logger.stream ? logger.stream : stderr;
    if (logger.json) {
        write_json(f, level, module, base, line, func, msg);
    } else if (logger.default_level <= MC_LOG_DEBUG || level == MC_LOG_DEBUG) {
        fprintf(f, "%s: %s: %s [%s:%s:%d %s]\n", logger.progname, level_names[level], msg, module,
                base, line, func);
    } else {
        fprintf(f, "%s: %s: %s\n", logger.progname, level_names[level], msg);
    }
    fflush(f);
    pthread_mutex_unlock(&log_lock);
}
