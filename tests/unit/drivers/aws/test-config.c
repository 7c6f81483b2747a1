/* Where AWS credentials, region and endpoint come from: the INI dialect of ~/.aws, the key pair
 * read from standard input, and the precedence of options, environment and profile files. */
#include <string.h>

#include "aws-config.h"
#include "json.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#define SECRET_ENV  "envSECRETenvSECRETenvSECRET0000000000001"
#define SECRET_FILE "fileSECRETfileSECRETfileSECRET000000002"
#define SECRET_DEV  "devSECRETdevSECRETdevSECRET00000000000003"
#define SECRET_MACH "machSECRETmachSECRETmachSECRET0000000004"

static const char credentials_file[] = "# shared credentials\n"
                                       "[default]\n"
                                       "aws_access_key_id = AKIADEFAULT\n"
                                       "aws_secret_access_key = " SECRET_FILE "\n"
                                       "\n"
                                       "[dev]\n"
                                       "aws_access_key_id=AKIADEV\n"
                                       "aws_secret_access_key=" SECRET_DEV "\n"
                                       "aws_session_token = tokdev\n"
                                       "[half]\n"
                                       "aws_access_key_id = AKIAHALF\n";

static const char config_file[] = "[default]\n"
                                  "region = eu-west-1\n"
                                  "; a comment\n"
                                  "[profile   dev]\n"
                                  "region = ap-south-1 # inline comment\n"
                                  "s3 =\n"
                                  "  max_concurrent_requests = 10\n"
                                  "[profile cfgonly]\n"
                                  "aws_access_key_id = AKIACFG\n"
                                  "aws_secret_access_key = cfgsecret\n"
                                  "region = sa-east-1\n"
                                  "[profile role]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/x\n"
                                  "source_profile = default\n";

static const char machine_file[] = "[default]\n"
                                   "aws_access_key_id = AKIAMACHINE\n"
                                   "aws_secret_access_key = " SECRET_MACH "\n";

struct setup {
    json_t *options;
    const char *const *env;
    bool machine;
    bool files;
};

static int
resolve(const struct setup *s, struct aws_config *ret, struct mc_error **err)
{
    struct aws_config_input in = {
        .options = s->options,
        .env = (char *const *)s->env,
        .machine_credentials_path = "/m/web1/credentials",
        .machine_credentials_text = s->machine ? machine_file : NULL,
        .credentials_path = "/h/.aws/credentials",
        .credentials_text = s->files ? credentials_file : NULL,
        .config_path = "/h/.aws/config",
        .config_text = s->files ? config_file : NULL,
    };
    return aws_config_resolve(&in, ret, err);
}

static bool
no_secret(const char *msg)
{
    static const char *const secrets[] = { SECRET_ENV,  SECRET_FILE, SECRET_DEV,
                                           SECRET_MACH, "cfgsecret", "onlyoneSECRETline" };
    if (!msg)
        return false;
    for (size_t i = 0; i < ELEMENTSOF(secrets); i++)
        if (strstr(msg, secrets[i]))
            return false;
    return true;
}

static void
test_ini(void)
{
    struct aws_ini ini;
    struct mc_error *err = NULL;
    ok(aws_ini_parse(config_file, "config", &ini, &err) == 0, "config file parses");
    is_str(aws_ini_get(&ini, "default", "region"), "eu-west-1", "default region");
    is_str(aws_ini_get(&ini, "profile dev", "region"), "ap-south-1",
           "profile header spacing normalised; inline comment dropped");
    is_str(aws_ini_get(&ini, "profile dev", "s3.max_concurrent_requests"), "10",
           "indented sub-setting");
    ok(aws_ini_get(&ini, "profile dev", "nope") == NULL, "missing key is NULL");
    aws_ini_clear(&ini);

    ok(aws_ini_parse("[a]\nKey = v1\nkey = v2\n[b]\n", "f", &ini, &err) == 0 &&
               streq(aws_ini_get(&ini, "a", "key"), "v2") && aws_ini_has_section(&ini, "b"),
       "keys lower-cased, last one wins, empty section known");
    aws_ini_clear(&ini);

    ok(aws_ini_parse("key = v\n", "/x/config", &ini, &err) < 0 && err &&
               strstr(err->message, "'/x/config' line 1"),
       "a setting before any section is an error with file and line: %s", err ? err->message : "");
    mc_error_free(err);
    err = NULL;
    ok(aws_ini_parse("[a]\n[b\n", "f", &ini, &err) < 0 && strstr(err->message, "line 2"),
       "unclosed section header");
    mc_error_free(err);
    err = NULL;
    ok(aws_ini_parse("[a]\nnovalue\n", "f", &ini, &err) < 0 &&
               strstr(err->message, "expected 'name = value'"),
       "a line without '='");
    mc_error_free(err);
}

static void
test_key_pair(void)
{
    static const struct {
        const char *text, *id, *secret, *token, *what;
    } cases[] = {
        { "aws_access_key_id=AKIA1\naws_secret_access_key=s1\n", "AKIA1", "s1", NULL,
          "name=value lines" },
        { "export AWS_ACCESS_KEY_ID=\"AKIA2\"\nexport AWS_SECRET_ACCESS_KEY='s2'\n"
          "export AWS_SESSION_TOKEN=t2\n",
          "AKIA2", "s2", "t2", "shell exports with quotes" },
        { "[default]\naws_access_key_id = AKIA3\naws_secret_access_key = s3\n", "AKIA3", "s3", NULL,
          "credentials-file form" },
        { "AKIA4\ns4\n", "AKIA4", "s4", NULL, "two bare lines" },
        { "AKIA5\r\ns5\r\nt5\r\n", "AKIA5", "s5", "t5", "three bare lines with CRLF" },
        { "Access key ID,Secret access key\nAKIA6,s6\n", "AKIA6", "s6", NULL,
          "the IAM console's CSV" },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct aws_credentials c;
        struct mc_error *err = NULL;
        int r = aws_parse_key_pair(cases[i].text, &c, &err);
        ok(r == 0 && streq(c.access_key_id, cases[i].id) &&
                   streq(c.secret_access_key, cases[i].secret) &&
                   streq_ptr(c.session_token, cases[i].token),
           "key pair: %s", cases[i].what);
        if (r == 0)
            aws_credentials_clear(&c);
        mc_error_free(err);
    }
    struct aws_credentials c;
    struct mc_error *err = NULL;
    ok(aws_parse_key_pair("onlyoneSECRETline\n", &c, &err) < 0 && no_secret(err->message),
       "one line is refused without echoing it: %s", err ? err->message : "");
    mc_error_free(err);

    struct aws_credentials in = { .access_key_id = (char *)"AKIA7",
                                  .secret_access_key = (char *)"s7",
                                  .session_token = (char *)"t7" };
    char *text = aws_format_key_pair(&in);
    err = NULL;
    ok(aws_parse_key_pair(text, &c, &err) == 0 && streq(c.secret_access_key, "s7") &&
               streq(c.session_token, "t7"),
       "the stored form reads back");
    aws_credentials_clear(&c);
    mc_free_secret(text, strlen(text));
}

static void
expect_creds(const struct setup *s, const char *id, const char *source_part, const char *what)
{
    struct aws_config c = { 0 };
    struct mc_error *err = NULL;
    int r = resolve(s, &c, &err);
    ok(r == 0 && streq(c.creds.access_key_id, id) && strstr(c.creds.source, source_part),
       "credentials: %s (got %s from %s%s)", what, r == 0 ? c.creds.access_key_id : "-",
       r == 0 ? c.creds.source : "-", err ? err->message : "");
    ok(r < 0 || no_secret(c.creds.source), "credentials: %s: the source names no secret", what);
    aws_config_clear(&c);
    mc_error_free(err);
}

static void
expect_error(const struct setup *s, enum mc_error_code code, const char *part, const char *what)
{
    struct aws_config c = { 0 };
    struct mc_error *err = NULL;
    int r = resolve(s, &c, &err);
    ok(r < 0 && err && err->code == code && strstr(err->message, part) && no_secret(err->message),
       "error: %s: %s", what, err ? err->message : "(none)");
    if (r == 0)
        aws_config_clear(&c);
    mc_error_free(err);
}

static void
test_credentials(void)
{
    static const char *const env_keys[] = { "AWS_ACCESS_KEY_ID=AKIAENV",
                                            "AWS_SECRET_ACCESS_KEY=" SECRET_ENV, NULL };
    static const char *const env_keys_profile[] = { "AWS_ACCESS_KEY_ID=AKIAENV",
                                                    "AWS_SECRET_ACCESS_KEY=" SECRET_ENV,
                                                    "AWS_PROFILE=dev", NULL };
    static const char *const env_profile[] = { "AWS_PROFILE=dev", NULL };
    static const char *const env_legacy[] = { "AWS_DEFAULT_PROFILE=cfgonly", NULL };
    static const char *const env_half[] = { "AWS_ACCESS_KEY_ID=AKIAENV", NULL };
    static const char *const env_none[] = { "HOME=/h", NULL };
    _cleanup_json_ json_t *none = json_object();
    _cleanup_json_ json_t *dev = json_pack("{s:s}", "profile", "dev");
    _cleanup_json_ json_t *missing = json_pack("{s:s}", "profile", "nosuch");
    _cleanup_json_ json_t *role = json_pack("{s:s}", "profile", "role");
    _cleanup_json_ json_t *half = json_pack("{s:s}", "profile", "half");

    expect_creds(&(struct setup){ none, env_keys, false, true }, "AKIAENV", "environment",
                 "the environment beats the default profile");
    expect_creds(&(struct setup){ none, env_keys_profile, false, true }, "AKIAENV", "environment",
                 "the environment's keys beat AWS_PROFILE (as the SDKs do)");
    expect_creds(&(struct setup){ dev, env_keys, false, true }, "AKIADEV", "profile 'dev'",
                 "an explicit --aws-profile beats the environment (as the AWS CLI's --profile)");
    expect_creds(&(struct setup){ dev, env_keys, true, true }, "AKIAMACHINE", "/m/web1/credentials",
                 "the machine's stdin key pair beats everything");
    expect_creds(&(struct setup){ none, env_profile, false, true }, "AKIADEV",
                 "'/h/.aws/credentials'", "AWS_PROFILE picks a credentials-file profile");
    expect_creds(&(struct setup){ none, env_legacy, false, true }, "AKIACFG", "'/h/.aws/config'",
                 "AWS_DEFAULT_PROFILE, keys in the config file");
    expect_creds(&(struct setup){ none, env_none, false, true }, "AKIADEFAULT", "profile 'default'",
                 "the default profile last");

    struct aws_config c = { 0 };
    ok(resolve(&(struct setup){ dev, env_none, false, true }, &c, NULL) == 0 &&
               streq(c.creds.session_token, "tokdev") && streq(c.profile, "dev"),
       "a profile's session token is used");
    aws_config_clear(&c);

    expect_error(&(struct setup){ none, env_none, false, false }, MC_ERR_AUTH,
                 "--aws-credentials-stdin", "nothing configured says every way to configure");
    expect_error(&(struct setup){ none, env_half, false, true }, MC_ERR_INVALID,
                 "AWS_SECRET_ACCESS_KEY is not", "half a pair in the environment");
    expect_error(&(struct setup){ missing, env_none, false, true }, MC_ERR_NOT_FOUND,
                 "'/h/.aws/credentials' nor '/h/.aws/config'", "a named profile that is missing");
    expect_error(&(struct setup){ role, env_none, false, true }, MC_ERR_UNSUPPORTED, "role_arn",
                 "a role profile is refused with the reason");
    expect_error(&(struct setup){ half, env_none, false, true }, MC_ERR_INVALID,
                 "no aws_secret_access_key", "a profile with half a pair");
}

static void
expect_region(json_t *opts, const char *const *env, const char *region, const char *source,
              const char *what)
{
    struct aws_config c = { 0 };
    struct mc_error *err = NULL;
    int r = resolve(&(struct setup){ opts, env, false, true }, &c, &err);
    ok(r == 0 && streq(c.region, region) && streq(c.region_source, source),
       "region: %s (got %s from %s)", what, r == 0 ? c.region : err->message,
       r == 0 ? c.region_source : "-");
    aws_config_clear(&c);
    mc_error_free(err);
}

static void
expect_endpoint(json_t *opts, const char *const *env, const char *endpoint, const char *what)
{
    struct aws_config c = { 0 };
    struct mc_error *err = NULL;
    int r = resolve(&(struct setup){ opts, env, false, true }, &c, &err);
    ok(r == 0 && streq(c.endpoint, endpoint), "endpoint: %s (got %s)", what,
       r == 0 ? c.endpoint : err->message);
    aws_config_clear(&c);
    mc_error_free(err);
}

static void
test_region_endpoint(void)
{
    static const char *const all[] = { "AWS_REGION=us-west-1", "AWS_DEFAULT_REGION=us-west-2",
                                       "AWS_ENDPOINT_URL_EC2=http://127.0.0.1:1/",
                                       "AWS_ENDPOINT_URL=http://127.0.0.1:2", NULL };
    static const char *const default_only[] = { "AWS_DEFAULT_REGION=us-west-2",
                                                "AWS_ENDPOINT_URL=http://127.0.0.1:2", NULL };
    static const char *const profile_dev[] = { "AWS_PROFILE=dev", NULL };
    static const char *const empty[] = { NULL };
    static const char *const bad_endpoint[] = { "AWS_ENDPOINT_URL=ftp://x", NULL };
    _cleanup_json_ json_t *none = json_object();
    _cleanup_json_ json_t *flags =
            json_pack("{s:s,s:s}", "region", "eu-central-1", "endpoint", "http://127.0.0.1:3");
    _cleanup_json_ json_t *dev = json_pack("{s:s}", "profile", "dev");
    _cleanup_json_ json_t *cn = json_pack("{s:s}", "region", "cn-north-1");
    _cleanup_json_ json_t *badr = json_pack("{s:s}", "region", "US East");

    expect_region(flags, all, "eu-central-1", "--aws-region", "the option beats AWS_REGION");
    expect_region(none, all, "us-west-1", "AWS_REGION", "AWS_REGION beats AWS_DEFAULT_REGION");
    expect_region(none, default_only, "us-west-2", "AWS_DEFAULT_REGION",
                  "AWS_DEFAULT_REGION beats the profile");
    expect_region(dev, empty, "ap-south-1", "profile 'dev'", "the explicit profile's region");
    expect_region(none, profile_dev, "ap-south-1", "profile 'dev'", "AWS_PROFILE's region");
    expect_region(none, empty, "eu-west-1", "profile 'default'", "the default profile's region");

    struct aws_config c = { 0 };
    struct aws_config_input in = { .options = none, .env = (char *const *)empty };
    ok(aws_config_resolve(&in, &c, NULL) < 0, "no files and no environment: no credentials");
    static const char *const keys_only[] = { "AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b",
                                             NULL };
    in.env = (char *const *)keys_only;
    ok(aws_config_resolve(&in, &c, NULL) == 0 && streq(c.region, "us-east-1") &&
               streq(c.region_source, "the default") &&
               streq(c.endpoint, "https://ec2.us-east-1.amazonaws.com"),
       "us-east-1 and its endpoint when nothing says otherwise");
    aws_config_clear(&c);

    expect_endpoint(flags, all, "http://127.0.0.1:3", "the option beats the environment");
    expect_endpoint(none, all, "http://127.0.0.1:1",
                    "AWS_ENDPOINT_URL_EC2 beats AWS_ENDPOINT_URL (trailing slash dropped)");
    expect_endpoint(none, default_only, "http://127.0.0.1:2", "AWS_ENDPOINT_URL");
    expect_endpoint(dev, empty, "https://ec2.ap-south-1.amazonaws.com", "the region's endpoint");
    expect_endpoint(cn, empty, "https://ec2.cn-north-1.amazonaws.com.cn", "China regions");
    expect_error(&(struct setup){ none, bad_endpoint, false, true }, MC_ERR_INVALID,
                 "'ftp://x' (from AWS_ENDPOINT_URL)", "a non-HTTP endpoint");
    expect_error(&(struct setup){ badr, empty, false, true }, MC_ERR_INVALID,
                 "'US East' (from --aws-region)", "a malformed region");
}

static void
test_paths(void)
{
    static const char *const home[] = { "HOME=/home/u", NULL };
    static const char *const over[] = { "HOME=/home/u", "AWS_SHARED_CREDENTIALS_FILE=/c",
                                        "AWS_CONFIG_FILE=/f", NULL };
    char *cred = NULL, *conf = NULL;
    aws_config_paths((char *const *)home, &cred, &conf);
    ok(streq(cred, "/home/u/.aws/credentials") && streq(conf, "/home/u/.aws/config"),
       "files under $HOME/.aws");
    free(cred);
    free(conf);
    aws_config_paths((char *const *)over, &cred, &conf);
    ok(streq(cred, "/c") && streq(conf, "/f"), "AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE");
    free(cred);
    free(conf);
    static const char *const e[] = { "AWS_X=", "AWS_Y=1", NULL };
    ok(aws_env_get((char *const *)e, "AWS_X") == NULL &&
               streq(aws_env_get((char *const *)e, "AWS_Y"), "1") &&
               aws_env_get((char *const *)e, "AWS") == NULL,
       "an empty variable counts as unset; names match whole");
}

int
main(void)
{
    test_ini();
    test_key_pair();
    test_credentials();
    test_region_endpoint();
    test_paths();
    return tap_done();
}
