#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws-config.h"
#include "fs.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define DEFAULT_REGION  "us-east-1"
#define MAX_CONFIG_SIZE (1 << 20)

static const char *
path_or_none(const char *path)
{
    return path ? path : "(no HOME)";
}

/* ---- the INI dialect of ~/.aws/credentials and ~/.aws/config ---- */

static void
free_secret_str(char *s)
{
    if (s)
        mc_free_secret(s, strlen(s));
}

void
aws_ini_clear(struct aws_ini *ini)
{
    for (size_t i = 0; i < ini->n; i++) {
        free(ini->v[i].section);
        free(ini->v[i].key);
        free_secret_str(ini->v[i].value);
    }
    free(ini->v);
    strv_free(ini->sections);
    memset(ini, 0, sizeof(*ini));
}

static char *
trim_dup(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    return xstrndup(s, len);
}

static void
lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* "profile   dev" -> "profile dev"; other names are only trimmed. */
static char *
section_name(const char *s, size_t len)
{
    _cleanup_free_ char *name = trim_dup(s, len);
    const char *rest = startswith(name, "profile");
    if (rest && (*rest == ' ' || *rest == '\t')) {
        _cleanup_free_ char *p = trim_dup(rest, strlen(rest));
        return xasprintf("profile %s", p);
    }
    return TAKE_PTR(name);
}

/* A value ends at a '#' or ';' that follows a blank (the profile-file spec's inline comment). */
static size_t
value_len(const char *v, size_t len)
{
    for (size_t i = 1; i < len; i++)
        if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t'))
            return i;
    return len;
}

static void
ini_add(struct aws_ini *ini, const char *section, char *key, char *value)
{
    ini->v = xreallocarray(ini->v, ini->n + 1, sizeof(*ini->v));
    ini->v[ini->n++] = (struct aws_ini_entry){ xstrdup(section), key, value };
}

struct ini_parser {
    struct aws_ini *ini;
    const char *what;
    int lineno;
    char *section;     /* current section, or NULL before the first header */
    size_t last_entry; /* index + 1 of the last top-level property, 0: none */
};

static int
parse_section_line(struct ini_parser *p, const char *line, size_t len, struct mc_error **err)
{
    const char *close = memchr(line, ']', len);
    if (!close)
        return mc_error_set(err, MC_ERR_INVALID, "'%s' line %d: a section header lacks ']'",
                            p->what, p->lineno);
    free(p->section);
    p->section = section_name(line + 1, (size_t)(close - line - 1));
    strv_add(&p->ini->sections, p->section);
    p->last_entry = 0;
    return 0;
}

static int
parse_property_line(struct ini_parser *p, const char *line, size_t len, bool indented,
                    struct mc_error **err)
{
    const char *eq = memchr(line, '=', len);
    if (indented && p->last_entry) {
        struct aws_ini_entry *parent = &p->ini->v[p->last_entry - 1];
        if (eq && isempty(parent->value)) {
            _cleanup_free_ char *sub = trim_dup(line, (size_t)(eq - line));
            lower(sub);
            const char *v = eq + 1;
            ini_add(p->ini, p->section, xasprintf("%s.%s", parent->key, sub),
                    trim_dup(v, value_len(v, len - (size_t)(v - line))));
            return 0;
        }
        _cleanup_free_ char *more = trim_dup(line, len);
        char *joined = xasprintf("%s\n%s", parent->value, more);
        free_secret_str(parent->value);
        parent->value = joined;
        return 0;
    }
    if (!p->section)
        return mc_error_set(err, MC_ERR_INVALID,
                            "'%s' line %d: a setting comes before any [section]", p->what,
                            p->lineno);
    if (!eq)
        return mc_error_set(err, MC_ERR_INVALID, "'%s' line %d: expected 'name = value'", p->what,
                            p->lineno);
    char *key = trim_dup(line, (size_t)(eq - line));
    lower(key);
    const char *v = eq + 1;
    ini_add(p->ini, p->section, key, trim_dup(v, value_len(v, len - (size_t)(v - line))));
    p->last_entry = p->ini->n;
    return 0;
}

static int
parse_ini_line(struct ini_parser *p, const char *line, size_t len, struct mc_error **err)
{
    size_t lead = strspn(line, " \t");
    if (lead >= len || line[lead] == '#' || line[lead] == ';' || line[lead] == '\r')
        return 0;
    if (line[lead] == '[')
        return parse_section_line(p, line + lead, len - lead, err);
    return parse_property_line(p, line, len, lead > 0, err);
}

int
aws_ini_parse(const char *text, const char *what, struct aws_ini *ret, struct mc_error **err)
{
    struct aws_ini ini = { .sections = strv_new() };
    struct ini_parser p = { .ini = &ini, .what = what };
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        p.lineno++;
        if (parse_ini_line(&p, line, len, err) < 0) {
            free(p.section);
            aws_ini_clear(&ini);
            return -1;
        }
        line += len;
        if (*line)
            line++;
    }
    free(p.section);
    *ret = ini;
    return 0;
}

const char *
aws_ini_get(const struct aws_ini *ini, const char *section, const char *key)
{
    for (size_t i = ini->n; i-- > 0;)
        if (streq(ini->v[i].section, section) && streq(ini->v[i].key, key))
            return ini->v[i].value;
    return NULL;
}

int
aws_ini_has_section(const struct aws_ini *ini, const char *section)
{
    return strv_contains(ini->sections, section);
}

/* ---- credentials ---- */

void
aws_credentials_clear(struct aws_credentials *c)
{
    free_secret_str(c->access_key_id);
    free_secret_str(c->secret_access_key);
    free_secret_str(c->session_token);
    free(c->source);
    memset(c, 0, sizeof(*c));
}

void
aws_config_clear(struct aws_config *c)
{
    aws_credentials_clear(&c->creds);
    free(c->profile);
    free(c->region);
    free(c->region_source);
    free(c->endpoint);
    free(c->endpoint_source);
    memset(c, 0, sizeof(*c));
}

static const struct {
    const char *name;
    size_t field; /* 0: id, 1: secret, 2: token */
} key_names[] = {
    { "aws_access_key_id", 0 },  { "aws_secret_access_key", 1 }, { "aws_session_token", 2 },
    { "aws_security_token", 2 }, { "access key id", 0 },         { "secret access key", 1 },
};

static char **
cred_field(struct aws_credentials *c, size_t field)
{
    return field == 0 ? &c->access_key_id : field == 1 ? &c->secret_access_key : &c->session_token;
}

/* Strips "export ", surrounding quotes and blanks; newly allocated. */
static char *
clean_value(const char *v, size_t len)
{
    _cleanup_free_ char *t = trim_dup(v, len);
    size_t n = strlen(t);
    if (n >= 2 && (t[0] == '"' || t[0] == '\'') && t[n - 1] == t[0]) {
        char *r = xstrndup(t + 1, n - 2);
        explicit_bzero(t, n);
        return r;
    }
    char *r = xstrdup(t);
    explicit_bzero(t, n);
    return r;
}

static int
key_pair_named_line(struct aws_credentials *c, const char *line, size_t len)
{
    const char *eq = memchr(line, '=', len);
    if (!eq)
        return 0;
    _cleanup_free_ char *name = trim_dup(line, (size_t)(eq - line));
    const char *n = startswith(name, "export ") ? name + 7 : name;
    for (size_t i = 0; i < ELEMENTSOF(key_names); i++) {
        if (strcasecmp(n, key_names[i].name) != 0)
            continue;
        char **f = cred_field(c, key_names[i].field);
        free_secret_str(*f);
        *f = clean_value(eq + 1, len - (size_t)(eq + 1 - line));
        return 1;
    }
    return 0;
}

/* The IAM console's CSV: a header naming the columns, then one row. */
static int
key_pair_csv(struct aws_credentials *c, char **lines)
{
    _cleanup_strv_ char **head = strv_split(lines[0], ",");
    _cleanup_strv_ char **row = strv_split(lines[1], ",");
    for (size_t i = 0; head[i] && row[i]; i++) {
        _cleanup_free_ char *h = trim_dup(head[i], strlen(head[i]));
        for (size_t k = 0; k < ELEMENTSOF(key_names); k++)
            if (strcasecmp(h, key_names[k].name) == 0) {
                char **f = cred_field(c, key_names[k].field);
                free_secret_str(*f);
                *f = clean_value(row[i], strlen(row[i]));
            }
    }
    for (size_t i = 0; row[i]; i++)
        explicit_bzero(row[i], strlen(row[i]));
    return 0;
}

static void
wipe_strv(char **l)
{
    STRV_FOREACH (s, l)
        explicit_bzero(*s, strlen(*s));
    strv_free(l);
}

int
aws_parse_key_pair(const char *text, struct aws_credentials *ret, struct mc_error **err)
{
    struct aws_credentials c = { 0 };
    char **lines = strv_split(text, "\r\n");
    size_t named = 0, bare = 0;
    STRV_FOREACH (l, lines) {
        const char *s = *l + strspn(*l, " \t");
        if (!*s || *s == '#' || *s == '[')
            continue;
        if (key_pair_named_line(&c, s, strlen(s)))
            named++;
        else
            bare++;
    }
    if (named == 0 && strv_length(lines) == 2 && strchr(lines[0], ',') &&
        strcasestr(lines[0], "access key id"))
        key_pair_csv(&c, lines);
    else if (named == 0 && bare >= 2 && bare <= 3) {
        c.access_key_id = clean_value(lines[0], strlen(lines[0]));
        c.secret_access_key = clean_value(lines[1], strlen(lines[1]));
        if (bare == 3)
            c.session_token = clean_value(lines[2], strlen(lines[2]));
    }
    wipe_strv(lines);
    if (isempty(c.access_key_id) || isempty(c.secret_access_key)) {
        aws_credentials_clear(&c);
        return mc_error_set(err, MC_ERR_INVALID,
                            "standard input holds no AWS key pair: give aws_access_key_id=... and "
                            "aws_secret_access_key=... lines, or the key id and the secret on "
                            "two lines");
    }
    if (isempty(c.session_token)) {
        free_secret_str(c.session_token);
        c.session_token = NULL;
    }
    *ret = c;
    return 0;
}

char *
aws_format_key_pair(const struct aws_credentials *c)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_printf(&b, "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
                  c->access_key_id, c->secret_access_key);
    if (c->session_token)
        mc_buf_printf(&b, "aws_session_token = %s\n", c->session_token);
    return mc_buf_steal(&b);
}

/* ---- resolution ---- */

const char *
aws_env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i][n + 1] ? env[i] + n + 1 : NULL;
    return NULL;
}

void
aws_config_paths(char *const *env, char **ret_credentials, char **ret_config)
{
    const char *home = aws_env_get(env, "HOME");
    const char *cred = aws_env_get(env, "AWS_SHARED_CREDENTIALS_FILE");
    const char *conf = aws_env_get(env, "AWS_CONFIG_FILE");
    *ret_credentials = cred ? xstrdup(cred) : home ? xasprintf("%s/.aws/credentials", home) : NULL;
    *ret_config = conf ? xstrdup(conf) : home ? xasprintf("%s/.aws/config", home) : NULL;
}

/* The parsed files of one resolution. */
struct files {
    struct aws_ini creds, config, machine;
    const struct aws_config_input *in;
};

static void
files_clear(struct files *f)
{
    aws_ini_clear(&f->creds);
    aws_ini_clear(&f->config);
    aws_ini_clear(&f->machine);
}

static int
files_parse(const struct aws_config_input *in, struct files *f, struct mc_error **err)
{
    memset(f, 0, sizeof(*f));
    f->in = in;
    if (in->credentials_text &&
        aws_ini_parse(in->credentials_text, in->credentials_path, &f->creds, err) < 0)
        return -1;
    if (in->config_text && aws_ini_parse(in->config_text, in->config_path, &f->config, err) < 0)
        return -1;
    if (in->machine_credentials_text &&
        aws_ini_parse(in->machine_credentials_text, in->machine_credentials_path, &f->machine,
                      err) < 0)
        return -1;
    return 0;
}

static char *
config_section(const char *profile)
{
    return streq(profile, "default") ? xstrdup("default") : xasprintf("profile %s", profile);
}

/* Keys that mean "credentials come from somewhere machine cannot go yet". */
static const char *const indirect_keys[] = {
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
    "credential_source",
    NULL,
};

/* Static keys from one section, or 0 when it has none, or -1 for a half-given pair. */
static int
creds_from_section(const struct aws_ini *ini, const char *section, const char *desc,
                   struct aws_credentials *ret, struct mc_error **err)
{
    const char *id = aws_ini_get(ini, section, "aws_access_key_id");
    const char *secret = aws_ini_get(ini, section, "aws_secret_access_key");
    if (isempty(id) && isempty(secret))
        return 0;
    if (isempty(id) || isempty(secret))
        return mc_error_set(err, MC_ERR_INVALID, "%s has %s but no %s", desc,
                            isempty(id) ? "aws_secret_access_key" : "aws_access_key_id",
                            isempty(id) ? "aws_access_key_id" : "aws_secret_access_key");
    const char *token = aws_ini_get(ini, section, "aws_session_token");
    ret->access_key_id = xstrdup(id);
    ret->secret_access_key = xstrdup(secret);
    ret->session_token = isempty(token) ? NULL : xstrdup(token);
    ret->source = xstrdup(desc);
    return 1;
}

static int
unsupported_profile(const struct aws_ini *ini, const char *section, const char *profile,
                    struct mc_error **err)
{
    for (size_t i = 0; indirect_keys[i]; i++)
        if (aws_ini_get(ini, section, indirect_keys[i]))
            return mc_error_set(err, MC_ERR_UNSUPPORTED,
                                "AWS profile '%s' gets its credentials through %s, which machine "
                                "does not support: give the profile aws_access_key_id and "
                                "aws_secret_access_key, or use AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY",
                                profile, indirect_keys[i]);
    return 0;
}

/* Credentials of a profile: the credentials file first, then the config file. Returns 1 when
 * found, 0 when the profile does not exist in either file (*ret_exists false) or has no keys. */
static int
creds_from_profile(const struct files *f, const char *profile, bool *ret_exists,
                   struct aws_credentials *ret, struct mc_error **err)
{
    _cleanup_free_ char *csec = config_section(profile);
    _cleanup_free_ char *d1 =
            xasprintf("profile '%s' in '%s'", profile, path_or_none(f->in->credentials_path));
    _cleanup_free_ char *d2 =
            xasprintf("profile '%s' in '%s'", profile, path_or_none(f->in->config_path));
    *ret_exists = aws_ini_has_section(&f->creds, profile) || aws_ini_has_section(&f->config, csec);
    int r = creds_from_section(&f->creds, profile, d1, ret, err);
    if (r != 0)
        return r;
    r = creds_from_section(&f->config, csec, d2, ret, err);
    if (r != 0)
        return r;
    if (unsupported_profile(&f->creds, profile, profile, err) < 0 ||
        unsupported_profile(&f->config, csec, profile, err) < 0)
        return -1;
    return 0;
}

static int
creds_from_env(char *const *env, struct aws_credentials *ret, struct mc_error **err)
{
    const char *id = aws_env_get(env, "AWS_ACCESS_KEY_ID");
    const char *secret = aws_env_get(env, "AWS_SECRET_ACCESS_KEY");
    if (!id && !secret)
        return 0;
    if (!id || !secret)
        return mc_error_set(err, MC_ERR_INVALID, "%s is set in the environment but %s is not",
                            id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                            id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    const char *token = aws_env_get(env, "AWS_SESSION_TOKEN");
    ret->access_key_id = xstrdup(id);
    ret->secret_access_key = xstrdup(secret);
    ret->session_token = xstrdup_or_null(token);
    ret->source = xstrdup("the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
    return 1;
}

static int
explicit_profile(const struct files *f, const char *profile, struct aws_config *ret,
                 struct mc_error **err)
{
    bool exists = false;
    int r = creds_from_profile(f, profile, &exists, &ret->creds, err);
    if (r < 0)
        return -1;
    if (r == 0 && !exists)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "AWS profile '%s' is in neither '%s' nor '%s'",
                            profile, path_or_none(f->in->credentials_path),
                            path_or_none(f->in->config_path));
    if (r == 0)
        return mc_error_set(err, MC_ERR_INVALID,
                            "AWS profile '%s' has no aws_access_key_id and aws_secret_access_key",
                            profile);
    ret->profile = xstrdup(profile);
    return 0;
}

/* The profile whose settings apply: the explicit one, AWS_PROFILE, else "default". */
static const char *
active_profile(const struct aws_config_input *in)
{
    const char *p = mc_json_str(in->options, "profile");
    if (isempty(p))
        p = aws_env_get(in->env, "AWS_PROFILE");
    if (isempty(p))
        p = aws_env_get(in->env, "AWS_DEFAULT_PROFILE");
    return isempty(p) ? "default" : p;
}

static int
resolve_credentials(const struct files *f, struct aws_config *ret, struct mc_error **err)
{
    const struct aws_config_input *in = f->in;
    _cleanup_free_ char *md = xasprintf("the key pair this machine keeps in '%s'",
                                        path_or_none(in->machine_credentials_path));
    int r = creds_from_section(&f->machine, "default", md, &ret->creds, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    const char *profile = mc_json_str(in->options, "profile");
    if (!isempty(profile))
        return explicit_profile(f, profile, ret, err);
    r = creds_from_env(in->env, &ret->creds, err);
    if (r != 0)
        return r < 0 ? -1 : 0;
    const char *envp = active_profile(in);
    if (!streq(envp, "default"))
        return explicit_profile(f, envp, ret, err);
    bool exists = false;
    r = creds_from_profile(f, "default", &exists, &ret->creds, err);
    if (r < 0)
        return -1;
    if (r > 0) {
        ret->profile = xstrdup("default");
        return 0;
    }
    return mc_error_set(err, MC_ERR_AUTH,
                        "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY, name a profile of '%s' with --aws-profile or "
                        "AWS_PROFILE, or pass a key pair on standard input with "
                        "--aws-credentials-stdin",
                        path_or_none(in->credentials_path));
}

static bool
region_is_valid(const char *r)
{
    return *r && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(r);
}

static int
resolve_region(const struct files *f, struct aws_config *ret, struct mc_error **err)
{
    const struct aws_config_input *in = f->in;
    const char *r = mc_json_str(in->options, "region");
    const char *src = "--aws-region";
    if (isempty(r) && (r = aws_env_get(in->env, "AWS_REGION")))
        src = "AWS_REGION";
    else if (isempty(r) && (r = aws_env_get(in->env, "AWS_DEFAULT_REGION")))
        src = "AWS_DEFAULT_REGION";
    _cleanup_free_ char *psrc = NULL;
    const char *profile = active_profile(in);
    if (isempty(r)) {
        _cleanup_free_ char *csec = config_section(profile);
        if ((r = aws_ini_get(&f->config, csec, "region")))
            src = psrc = xasprintf("profile '%s'", profile);
    }
    if (isempty(r)) {
        r = DEFAULT_REGION;
        src = "the default";
    }
    if (!region_is_valid(r))
        return mc_error_set(err, MC_ERR_INVALID, "AWS region '%s' (from %s) is not a region name",
                            r, src);
    ret->region = xstrdup(r);
    ret->region_source = xstrdup(src);
    return 0;
}

static int
resolve_endpoint(const struct files *f, struct aws_config *ret, struct mc_error **err)
{
    const struct aws_config_input *in = f->in;
    const char *e = mc_json_str(in->options, "endpoint");
    const char *src = "--aws-endpoint";
    if (isempty(e) && (e = aws_env_get(in->env, "AWS_ENDPOINT_URL_EC2")))
        src = "AWS_ENDPOINT_URL_EC2";
    else if (isempty(e) && (e = aws_env_get(in->env, "AWS_ENDPOINT_URL")))
        src = "AWS_ENDPOINT_URL";
    if (isempty(e)) {
        bool cn = startswith(ret->region, "cn-") != NULL;
        ret->endpoint = xasprintf("https://ec2.%s.amazonaws.com%s", ret->region, cn ? ".cn" : "");
        ret->endpoint_source = xstrdup("the region");
        return 0;
    }
    if (!startswith(e, "http://") && !startswith(e, "https://"))
        return mc_error_set(err, MC_ERR_INVALID,
                            "AWS endpoint '%s' (from %s) is not an http(s) URL", e, src);
    size_t n = strlen(e);
    while (n > 8 && e[n - 1] == '/')
        n--;
    ret->endpoint = xstrndup(e, n);
    ret->endpoint_source = xstrdup(src);
    return 0;
}

int
aws_config_resolve(const struct aws_config_input *in, struct aws_config *ret, struct mc_error **err)
{
    struct files f;
    struct aws_config c = { 0 };
    int r = files_parse(in, &f, err);
    if (r == 0)
        r = resolve_credentials(&f, &c, err);
    if (r == 0)
        r = resolve_region(&f, &c, err);
    if (r == 0)
        r = resolve_endpoint(&f, &c, err);
    files_clear(&f);
    if (r < 0) {
        aws_config_clear(&c);
        return -1;
    }
    *ret = c;
    return 0;
}

/* Reads path when it exists; a missing file is NULL without an error. */
static int
read_optional(const char *path, char **ret, struct mc_error **err)
{
    *ret = NULL;
    if (!path || access(path, F_OK) < 0)
        return 0;
    return mc_read_file(path, MAX_CONFIG_SIZE, ret, NULL, err);
}

static void
free_text(char *s)
{
    free_secret_str(s);
}

int
aws_config_load(const json_t *options, const char *dir, struct aws_config *ret,
                struct mc_error **err)
{
    extern char **environ;
    _cleanup_free_ char *cred_path = NULL, *conf_path = NULL, *machine_path = NULL;
    aws_config_paths(environ, &cred_path, &conf_path);
    if (dir)
        machine_path = mc_path_join(dir, AWS_MACHINE_CREDENTIALS_FILE);
    char *cred = NULL, *conf = NULL, *machine = NULL;
    int r = read_optional(cred_path, &cred, err);
    if (r == 0)
        r = read_optional(conf_path, &conf, err);
    if (r == 0)
        r = read_optional(machine_path, &machine, err);
    if (r == 0) {
        struct aws_config_input in = {
            .options = options,
            .env = environ,
            .machine_credentials_path = machine_path,
            .machine_credentials_text = machine,
            .credentials_path = cred_path,
            .credentials_text = cred,
            .config_path = conf_path,
            .config_text = conf,
        };
        r = aws_config_resolve(&in, ret, err);
    }
    free_text(cred);
    free_text(conf);
    free_text(machine);
    return r;
}
