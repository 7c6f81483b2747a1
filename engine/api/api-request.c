/* The request side of api-handler.h: accessors and body reading. */
#include <string.h>
#include <strings.h>

#include "api-internal.h"
#include "json.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

const char *
eng_req_method(const struct eng_request *req)
{
    return req->head.method;
}

const char *
eng_req_path(const struct eng_request *req)
{
    return req->path;
}

int
eng_req_api_version(const struct eng_request *req)
{
    return req->api_version;
}

const char *
eng_req_param(const struct eng_request *req, const char *name)
{
    return eng_route_match_param(&req->match, name);
}

/* The query is parsed on first use: /_ping and most routes never look at it. */
static const struct eng_query *
query_of(const struct eng_request *creq)
{
    struct eng_request *req = (struct eng_request *)creq;
    if (!req->query_parsed) {
        req->query_parsed = true;
        if (eng_query_parse(req->head.query, &req->query, NULL) < 0)
            memset(&req->query, 0, sizeof(req->query));
    }
    return &req->query;
}

const char *
eng_req_query(const struct eng_request *req, const char *key)
{
    return eng_query_get(query_of(req), key);
}

char **
eng_req_query_all(const struct eng_request *req, const char *key)
{
    const struct eng_query *q = query_of(req);
    char **l = strv_new();
    for (size_t i = 0; i < q->n; i++)
        if (streq(q->keys[i], key))
            strv_add(&l, q->values[i]);
    return l;
}

bool
eng_req_query_bool(const struct eng_request *req, const char *key, bool dflt)
{
    const char *v = eng_req_query(req, key);
    if (isempty(v))
        return dflt;
    return !(streq(v, "0") || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0);
}

int
eng_req_query_int(const struct eng_request *req, const char *key, int64_t dflt, int64_t *ret,
                  struct mc_error **err)
{
    const char *v = eng_req_query(req, key);
    if (isempty(v)) {
        *ret = dflt;
        return 0;
    }
    if (mc_parse_int64(v, ret) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "The parameter '%s' is not an integer: '%s'.", key,
                            v);
    return 0;
}

/* {"k":["a","b"]} (API < 1.22 style) becomes {"k":{"a":true,"b":true}}. */
static int
normalise_filters(json_t *f, struct mc_error **err)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe (f, tmp, k, v) {
        if (json_is_array(v)) {
            json_t *o = json_object();
            size_t i;
            json_t *item;
            json_array_foreach (v, i, item) {
                if (json_is_string(item))
                    json_object_set_new(o, json_string_value(item), json_true());
            }
            json_object_set_new(f, k, o);
        } else if (!json_is_object(v)) {
            return mc_error_set(err, MC_ERR_INVALID, "The filter '%s' is malformed.", k);
        }
    }
    return 0;
}

json_t *
eng_req_filters(const struct eng_request *req, struct mc_error **err)
{
    const char *v = eng_req_query(req, "filters");
    if (isempty(v))
        return json_object();
    _cleanup_json_ json_t *f = mc_json_parse(v, strlen(v), "The filters parameter", err);
    if (!f)
        return NULL;
    if (!json_is_object(f)) {
        mc_error_set(err, MC_ERR_INVALID, "The filters parameter must be a JSON object.");
        return NULL;
    }
    if (normalise_filters(f, err) < 0)
        return NULL;
    return TAKE_PTR(f);
}

const char *
eng_req_header(const struct eng_request *req, const char *name)
{
    return eng_http_head_get(&req->head, name);
}

const char *
eng_req_body(const struct eng_request *req, size_t *ret_len)
{
    if (ret_len)
        *ret_len = req->body ? req->body_len : 0;
    return req->body ? req->body : "";
}

json_t *
eng_req_body_json(const struct eng_request *req, struct mc_error **err)
{
    size_t len;
    const char *b = eng_req_body(req, &len);
    size_t i = 0;
    while (i < len && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
        i++;
    if (i == len)
        return json_object();
    return mc_json_parse(b, len, "The request body", err);
}

struct eng_daemon *
eng_req_daemon(const struct eng_request *req)
{
    return eng_server_daemon(req->server);
}

int
eng_req_fd(const struct eng_request *req)
{
    return req->conn->fd;
}

bool
eng_req_client_gone(const struct eng_request *req)
{
    return eng_conn_peer_gone(req->conn);
}

static ssize_t
read_length(struct eng_request *req, void *buf, size_t n, struct mc_error **err)
{
    if (n > req->body_left)
        n = (size_t)req->body_left;
    ssize_t r = eng_conn_read(req->conn, buf, n, ENG_BODY_TIMEOUT_MS, err);
    if (r == 0)
        return mc_error_set(err, MC_ERR_IO, "The client closed the connection inside the body.");
    if (r > 0) {
        req->body_left -= (uint64_t)r;
        req->body_done = req->body_left == 0;
    }
    return r;
}

static ssize_t
read_chunked(struct eng_request *req, void *buf, size_t n, struct mc_error **err)
{
    struct eng_conn *c = req->conn;
    for (;;) {
        size_t have = c->in_len - c->in_off;
        if (have > 0) {
            size_t used = 0, dlen = 0;
            const char *data = NULL;
            int r = eng_chunked_step(&req->chunked, c->in + c->in_off, have, n, &used, &data, &dlen,
                                     err);
            if (r < 0)
                return -1;
            if (dlen > 0)
                memcpy(buf, data, dlen);
            eng_conn_consume(c, used);
            if (r == 1)
                req->body_done = true;
            if (dlen > 0)
                return (ssize_t)dlen;
            if (r == 1)
                return 0;
            if (used > 0)
                continue;
        }
        ssize_t got = eng_conn_fill(c, 64 * 1024, ENG_BODY_TIMEOUT_MS, err);
        if (got < 0)
            return -1;
        if (got == 0)
            return mc_error_set(err, MC_ERR_IO,
                                "The client closed the connection inside a chunked body.");
    }
}

ssize_t
eng_req_read(struct eng_request *req, void *buf, size_t n, struct mc_error **err)
{
    if (req->body_done || n == 0)
        return 0;
    if (req->body_error)
        return mc_error_set(err, MC_ERR_IO, "The request body could not be read.");
    ssize_t r = req->body_mode == BODY_LENGTH ? read_length(req, buf, n, err)
                                              : read_chunked(req, buf, n, err);
    if (r < 0)
        req->body_error = true;
    return r;
}
