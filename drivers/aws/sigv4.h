/* AWS Signature Version 4, as pure functions over a request held in memory.
 *
 * Every step is exposed so that tests can compare each intermediate result of the official
 * vectors (canonical request, string to sign, signature, signed request) byte for byte, for
 * both ways of carrying the signature: the Authorization header and a presigned query string.
 * Nothing here does I/O or reads the clock: the caller passes the time. */
#ifndef MC_AWS_SIGV4_H
#define MC_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"

struct aws_header {
    const char *name;  /* as sent ("Host", "Content-Type") */
    const char *value; /* as sent; canonicalisation trims it */
};

struct aws_sigv4_request {
    const char *method;               /* "POST" */
    const char *path;                 /* the path as given, without the query ("/") */
    const char *query;                /* the query as given, without '?'; NULL or "" for none */
    const struct aws_header *headers; /* in request order; must include Host */
    size_t n_headers;
    const void *body;
    size_t body_len;
};

struct aws_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL when the credentials have none */
    const char *region;        /* "us-east-1" */
    const char *service;       /* "ec2" */
    const char *amz_date;      /* "20150830T123600Z", the request's time in UTC */
    bool normalize_path;       /* remove dot segments and empty segments (all services but S3) */
    bool sign_body;            /* add and sign x-amz-content-sha256 */
    int expires;               /* presigned requests: X-Amz-Expires in seconds */
};

enum aws_sigv4_mode {
    AWS_SIGV4_HEADER, /* the signature goes in an Authorization header */
    AWS_SIGV4_QUERY,  /* the signature goes in the query string (a presigned URL) */
};

/* The result of signing. In header mode, headers lists what to add to the request, in order
 * (X-Amz-Security-Token, X-Amz-Date, x-amz-content-sha256, Authorization; each only when it
 * applies) and query is NULL; in query mode, headers is empty and query is the full query string
 * to send (the request's own, then the X-Amz-* parameters and the signature). */
struct aws_sigv4_signed {
    char signature[MC_SHA256_HEX_LEN + 1];
    struct {
        char *name;
        char *value;
    } headers[4];
    size_t n_headers;
    char *query;
};
void aws_sigv4_signed_clear(struct aws_sigv4_signed *s);

/* "20150830T123600Z" for a time in seconds since the epoch (UTC); buf holds 17 bytes. */
void aws_sigv4_amz_date(long long epoch_s, char buf[17]);

/* URI-encodes s as SigV4 wants: unreserved characters (A-Z a-z 0-9 - _ . ~) are kept, every
 * other byte becomes %XX in upper case; '/' is kept when keep_slash. Newly allocated. */
char *aws_uri_encode(const char *s, size_t len, bool keep_slash);

/* The canonical request, newly allocated. */
char *aws_sigv4_canonical_request(const struct aws_sigv4_request *req,
                                  const struct aws_sigv4_params *p, enum aws_sigv4_mode mode);

/* The string to sign for a canonical request, newly allocated. */
char *aws_sigv4_string_to_sign(const char *canonical_request, const struct aws_sigv4_params *p);

/* The signature (lower-case hex) of a string to sign; the derived keys are wiped. */
void aws_sigv4_signature(const char *string_to_sign, const struct aws_sigv4_params *p,
                         char hex[MC_SHA256_HEX_LEN + 1]);

/* Signs req: runs the three steps above and fills *ret (clear it with aws_sigv4_signed_clear). */
void aws_sigv4_sign(const struct aws_sigv4_request *req, const struct aws_sigv4_params *p,
                    enum aws_sigv4_mode mode, struct aws_sigv4_signed *ret);

/* The signed request as HTTP/1.1 text: the request line, the request's headers as given, the
 * added headers, a blank line and the body. Newly allocated. */
char *aws_sigv4_signed_request_text(const struct aws_sigv4_request *req,
                                    const struct aws_sigv4_signed *s);

#endif
