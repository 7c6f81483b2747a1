/* TAP helpers for C tests (meson protocol: 'tap').
 *
 *   int main(void) { ok(1 + 1 == 2, "adds"); is_str(s, "x", "name"); return tap_done(); }
 *
 * A test that cannot run here calls tap_skip_all("why"), which prints "1..0 # SKIP why" and
 * exits 0: meson's TAP protocol counts that as a skip (script tests use exit status 77 instead);
 * a skip is never a pass. Golden files live in tests/data/golden/ and are rewritten
 * when MACHINE_TEST_REGENERATE=1. */
#ifndef MC_TAP_H
#define MC_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"

bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...) _printf_(4, 5);
bool tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
        _printf_(5, 6);
bool tap_is_int(int64_t got, int64_t want, const char *file, int line, const char *fmt, ...)
        _printf_(5, 6);
void tap_diag(const char *fmt, ...) _printf_(1, 2);
void tap_skip(int n, const char *reason);
/* Prints the plan and returns the exit code (0 when all passed, 1 otherwise). */
int tap_done(void);
_noreturn_ void tap_skip_all(const char *fmt, ...) _printf_(1, 2);
_noreturn_ void tap_bail(const char *fmt, ...) _printf_(1, 2);

/* A new empty folder under $TMPDIR, removed at exit unless MACHINE_TEST_KEEP=1. */
const char *tap_tmpdir(void);
/* Compares got with tests/data/golden/<name> (MACHINE_TEST_SRCDIR or the built-in source dir). */
bool tap_golden(const char *got, const char *name, const char *file, int line);
/* The project's source folder (for test data). */
const char *tap_srcdir(void);
/* A file from tests/data (newly allocated path). */
char *tap_data_path(const char *rel);

#define ok(cond, ...)          tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str(got, want, __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
    tap_is_int((int64_t)(got), (int64_t)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_golden(got, name) tap_golden(got, name, __FILE__, __LINE__)

#endif
