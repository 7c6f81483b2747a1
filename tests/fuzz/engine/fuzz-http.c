/* libFuzzer target: the engine's HTTP request parser (heads, chunked bodies, queries),
 * version prefixes and routing, and stream frame headers. Aborts on a broken invariant;
 * ASan and UBSan catch memory and arithmetic errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api-http.h"
#include "api-router.h"

static int
h(struct eng_request *req, struct mc_error **err)
{
    return 0;
}

/* The shapes of the engine's real routes. */
static const struct eng_route routes[] = {
    { "GET", "/_ping", h },
    { "HEAD", "/_ping", h },
    { "GET", "/version", h },
    { "GET", "/images/json", h },
    { "POST", "/images/create", h },
    { "GET", "/images/{name*}/json", h },
    { "POST", "/images/{name*}/tag", h },
    { "DELETE", "/images/{name*}", h },
    { "GET", "/plugins/{name*}/json", h },
    { "GET", "/containers/{id}/json", h },
    { "POST", "/containers/{id}/attach", h },
    { "POST", "/exec/{id}/start", h },
    { "*", "/networks/{rest*}", h },
    { "*", "/containers/{id}/stats", h },
};
static const struct eng_module mod = { .name = "fuzz",
                                       .routes = routes,
                                       .n_routes = sizeof(routes) / sizeof(routes[0]) };
static const struct eng_module *const mods[] = { &mod, NULL };

static void
check(int cond)
{
    if (!cond)
        abort();
}

/* Feeds a chunked body in pieces whose sizes come from the input itself. */
static void
body(const char *in, size_t len, uint8_t seed)
{
    struct eng_chunked c = { 0 };
    size_t pos = 0, arrived = 0, total = 0;
    size_t step = (size_t)(seed % 17) + 1, max_data = (size_t)(seed % 5) + 1;
    for (int rounds = 0; rounds < 100000; rounds++) {
        size_t used = 0, dlen = 0;
        const char *d = NULL;
        struct mc_error *err = NULL;
        int r = eng_chunked_step(&c, in + pos, arrived - pos, max_data, &used, &d, &dlen, &err);
        mc_error_free(err);
        if (r < 0)
            return;
        check(used <= arrived - pos && dlen <= max_data);
        if (dlen)
            check(d >= in + pos && d + dlen <= in + pos + used);
        total += dlen;
        check(total <= len);
        pos += used;
        if (r == 1)
            return;
        if (used == 0) {
            if (arrived == len)
                return;
            arrived = arrived + step > len ? len : arrived + step;
        }
    }
    abort(); /* no progress */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct eng_http_head hd = { 0 };
    int st = 0;
    struct mc_error *err = NULL;
    long n = eng_http_parse_head(in, size, &eng_http_default_limits, &hd, &st, &err);
    check(n <= (long)size);
    if (n < 0)
        check(err && (st == 400 || st == 414 || st == 431 || st == 501 || st == 505));
    mc_error_free(err);
    if (n > 0) {
        check(hd.method && hd.path && hd.query && hd.target);
        const char *rest, *vt;
        size_t vl;
        int v;
        eng_api_version_split(hd.path, &rest, &v, &vt, &vl);
        eng_api_version_check(v, vt, vl, NULL);
        struct eng_route_match m;
        if (eng_router_find(mods, hd.method, rest, &m)) {
            for (size_t i = 0; i < m.n_params; i++)
                check(m.values[i][0] != '\0');
            eng_route_match_clear(&m);
        }
        struct eng_query q;
        if (eng_query_parse(hd.query, &q, NULL) == 0) {
            eng_query_get(&q, "filters");
            eng_query_clear(&q);
        }
        if (hd.chunked)
            body(in + n, size - (size_t)n, size ? data[size - 1] : 0);
        eng_http_head_clear(&hd);
    }
    if (size >= 8) {
        enum eng_stream_type t;
        uint32_t len;
        eng_frame_parse(data, &t, &len);
    }
    return 0;
}
