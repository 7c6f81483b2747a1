/* Where the AWS driver's credentials, region and endpoint come from.
 *
 * Pure functions over the environment (a NULL-terminated "NAME=value" vector), the resolved
 * create options and the text of ~/.aws/credentials and ~/.aws/config, so that the precedence
 * is unit-tested without touching the real files. aws_config_load() is the thin I/O wrapper.
 *
 * Credentials, first match wins:
 *   1. the key pair the machine keeps in its folder (read from stdin at create with
 *      --aws-credentials-stdin);
 *   2. an explicit profile (--aws-profile or MACHINE_AWS_PROFILE), as the AWS CLI's --profile
 *      beats the environment;
 *   3. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *   4. the profile named by AWS_PROFILE (or the legacy AWS_DEFAULT_PROFILE), else "default",
 *      from the credentials file, then the config file.
 * Region: --aws-region/MACHINE_AWS_REGION, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 * region, else us-east-1. Endpoint: --aws-endpoint/MACHINE_AWS_ENDPOINT, AWS_ENDPOINT_URL_EC2,
 * AWS_ENDPOINT_URL, else https://ec2.REGION.amazonaws.com.
 * Secrets never leave these structs except into a signature; they are wiped when freed. */
#ifndef MC_AWS_CONFIG_H
#define MC_AWS_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* A parsed INI file in the AWS tools' dialect: "[section]" headers, "key = value" lines,
 * '#' and ';' comment lines, and indented "sub = value" lines under a "key =" line, stored as
 * "key.sub". Keys are lower-cased; values are wiped when the file is cleared. */
struct aws_ini_entry {
    char *section;
    char *key;
    char *value;
};
struct aws_ini {
    struct aws_ini_entry *v;
    size_t n;
    char **sections; /* every section header seen, in order (a section may be empty) */
};

/* Parses text; what names the file in errors ("'/root/.aws/config' line 3: ..."). */
int aws_ini_parse(const char *text, const char *what, struct aws_ini *ret, struct mc_error **err);
/* The value of key in section, or NULL. */
const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key);
/* True when the file has a section of that name (even an empty one). */
int aws_ini_has_section(const struct aws_ini *ini, const char *section);
void aws_ini_clear(struct aws_ini *ini);

struct aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    char *source;        /* where they came from, for messages: "the environment
                            (AWS_ACCESS_KEY_ID)", "profile 'dev' in '/root/.aws/credentials'" */
};
/* Wipes the secrets and frees everything. */
void aws_credentials_clear(struct aws_credentials *c);

/* Parses a key pair given on standard input: "NAME=value" lines (aws_access_key_id or
 * AWS_ACCESS_KEY_ID, the secret and an optional session token, "export " allowed, values may be
 * quoted), the INI form of ~/.aws/credentials, the IAM console's CSV ("Access key ID,Secret
 * access key" then one row), or two or three bare lines (id, secret, token). ret->source is
 * left NULL. */
int aws_parse_key_pair(const char *text, struct aws_credentials *ret, struct mc_error **err);

/* Renders credentials in the ~/.aws/credentials format (a [default] section), for the 0600
 * file a machine keeps. The result holds secrets: free it with mc_free_secret(). */
char *aws_format_key_pair(const struct aws_credentials *c);

/* Everything the resolution reads. Text fields are NULL when the file does not exist. */
struct aws_config_input {
    const json_t *options; /* resolved create options: "profile", "region", "endpoint" */
    char *const *env;      /* "NAME=value" strings, NULL-terminated */
    const char *machine_credentials_path; /* the machine's stored key pair, and its text */
    const char *machine_credentials_text;
    const char *credentials_path; /* ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE) */
    const char *credentials_text;
    const char *config_path; /* ~/.aws/config (or AWS_CONFIG_FILE) */
    const char *config_text;
};

struct aws_config {
    struct aws_credentials creds;
    char *profile; /* the profile in use (for the region too), or NULL */
    char *region;
    char *region_source; /* "--aws-region", "AWS_REGION", "profile 'dev'", "the default" */
    char *endpoint;      /* "https://ec2.us-east-1.amazonaws.com" or an override */
    char *endpoint_source;
};
void aws_config_clear(struct aws_config *c);

/* The value of NAME in env, or NULL (an empty value counts as unset). */
const char *aws_env_get(char *const *env, const char *name);

/* The paths of the shared credentials and config files for env (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE, else under $HOME/.aws). Newly allocated; NULL when there is no HOME. */
void aws_config_paths(char *const *env, char **ret_credentials, char **ret_config);

/* Resolves credentials, region and endpoint from in (see the top of this file). Errors say what
 * is missing or malformed and where, never a secret. */
int aws_config_resolve(const struct aws_config_input *in, struct aws_config *ret,
                       struct mc_error **err);

/* The I/O wrapper: reads the environment and the files named above (and the machine's stored
 * pair at dir/credentials when dir is not NULL), then resolves. */
int aws_config_load(const json_t *options, const char *dir, struct aws_config *ret,
                    struct mc_error **err);

/* The name of the file a machine keeps its stdin key pair in, inside its driver folder. */
#define AWS_MACHINE_CREDENTIALS_FILE "credentials"

#endif
