#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "xalloc.h"

static void
test_ints(void)
{
    int64_t v = 0;
    ok(mc_parse_int64("42", &v) == 0 && v == 42, "parses 42");
    ok(mc_parse_int64("-7", &v) == 0 && v == -7, "parses -7");
    ok(mc_parse_int64("42x", &v) < 0, "refuses trailing garbage");
    ok(mc_parse_int64("", &v) < 0, "refuses empty");
    ok(mc_parse_int64(" 1", &v) < 0, "refuses leading space");
    ok(mc_parse_int64("99999999999999999999", &v) < 0, "refuses overflow");
    uint64_t u = 0;
    ok(mc_parse_uint64("-1", &u) < 0, "unsigned refuses negatives");
    int i = 0;
    ok(mc_parse_int("2147483648", &i) < 0, "int refuses out of range");
}

static void
test_durations_sizes(void)
{
    int64_t ms = 0;
    ok(mc_parse_duration_ms("10", &ms) == 0 && ms == 10000, "bare number is seconds");
    ok(mc_parse_duration_ms("1500ms", &ms) == 0 && ms == 1500, "milliseconds");
    ok(mc_parse_duration_ms("1h30m", &ms) == 0 && ms == 5400000, "compound duration");
    ok(mc_parse_duration_ms("10x", &ms) < 0, "unknown unit refused");
    ok(mc_parse_duration_ms("m", &ms) < 0, "unit without number refused");
    uint64_t sz = 0;
    ok(mc_parse_size("64m", &sz) == 0 && sz == 64ULL << 20, "64m");
    ok(mc_parse_size("1GB", &sz) == 0 && sz == 1ULL << 30, "1GB");
    ok(mc_parse_size("512", &sz) == 0 && sz == 512, "bytes");
    ok(mc_parse_size("5q", &sz) < 0, "bad unit refused");
    char buf[32];
    is_str(mc_format_size(4261550, buf, sizeof(buf)), "4.26MB", "docker-style size");
    is_str(mc_format_size(999, buf, sizeof(buf)), "999B", "small size");
}

static void
test_names(void)
{
    ok(mc_name_is_valid("web1"), "web1 is valid");
    ok(mc_name_is_valid("a-b-c"), "inner hyphens are valid");
    ok(!mc_name_is_valid("-a"), "leading hyphen refused");
    ok(!mc_name_is_valid("a-"), "trailing hyphen refused");
    ok(!mc_name_is_valid("a_b"), "underscore refused");
    ok(!mc_name_is_valid("a.b"), "dot refused");
    ok(!mc_name_is_valid(""), "empty refused");
    char long_name[65];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    ok(!mc_name_is_valid(long_name), "64 characters refused");
    long_name[63] = '\0';
    ok(mc_name_is_valid(long_name), "63 characters accepted");
}

static void
test_hex_and_distance(void)
{
    uint8_t in[] = { 0x00, 0xab, 0xff }, out[3];
    char hex[7];
    mc_hex_encode(in, 3, hex);
    is_str(hex, "00abff", "hex encode");
    ok(mc_hex_decode("00ABff", out, 3) == 0 && memcmp(in, out, 3) == 0, "hex decode");
    ok(mc_hex_decode("0g", out, 1) < 0, "bad hex refused");
    is_int(mc_edit_distance("create", "craete"), 2, "edit distance of a swap");
    is_int(mc_edit_distance("ls", "ls"), 0, "edit distance of equal strings");
    bool b;
    ok(mc_parse_bool("yes", &b) == 0 && b, "yes is true");
    ok(mc_parse_bool("0", &b) == 0 && !b, "0 is false");
    ok(mc_parse_bool("maybe", &b) < 0, "maybe refused");
}

int
main(void)
{
    test_ints();
    test_durations_sizes();
    test_names();
    test_hex_and_distance();
    return tap_done();
}
