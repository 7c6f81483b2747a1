/* The whole chain the CLI and the driver form for the aws settings: a flag beats its generated
 * MACHINE_AWS_* variable, which beats the AWS_* one (and the profile files). The command line
 * goes through the CLI's own flag parsing and driver option resolution, then through
 * aws_config_resolve(), with one environment for both. */
#include <string.h>

#include "aws-config.h"
#include "cli-args.h"
#include "cli-drivers.h"
#include "json.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const char credentials_file[] = "[dev]\n"
                                       "aws_access_key_id = AKIADEV\n"
                                       "aws_secret_access_key = devsecret\n"
                                       "[other]\n"
                                       "aws_access_key_id = AKIAOTHER\n"
                                       "aws_secret_access_key = othersecret\n";

static char *const *current_env;

static const char *
env_get(const char *name)
{
    return aws_env_get(current_env, name);
}

/* Parses "machine create LINE" with the drivers' generated flags and resolves the aws
 * settings from it and env. */
static int
resolve(const char *line, const char *const *env, struct aws_config *ret, struct mc_error **err)
{
    struct cli_flagset set = { 0 };
    struct cli_args a = { 0 };
    const struct machine_driver *aws = NULL;
    _cleanup_json_ json_t *opts = NULL;
    _cleanup_strv_ char **argv = strv_split(line, " ");
    current_env = (char *const *)env;
    cli_driver_flags(&set);
    int r = cli_args_parse(&set, (int)strv_length(argv), argv, false, "machine create", &a, err);
    if (r == 0)
        r = cli_driver_lookup("aws", &aws, err);
    if (r == 0)
        r = cli_driver_resolve(aws, &a, env_get, &opts, err);
    if (r == 0) {
        struct aws_config_input in = {
            .options = opts,
            .env = (char *const *)env,
            .credentials_path = "/h/.aws/credentials",
            .credentials_text = credentials_file,
        };
        r = aws_config_resolve(&in, ret, err);
    }
    cli_args_clear(&a);
    cli_flagset_clear(&set);
    return r;
}

struct want {
    const char *line;
    const char *const *env;
    const char *region, *key_id, *endpoint, *what;
};

static void
check(const struct want *w)
{
    struct aws_config c = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    int r = resolve(w->line, w->env, &c, &err);
    ok(r == 0 && streq(c.region, w->region) && streq(c.creds.access_key_id, w->key_id) &&
               streq(c.endpoint, w->endpoint),
       "%s (got %s, %s, %s%s)", w->what, r == 0 ? c.region : "-",
       r == 0 ? c.creds.access_key_id : "-", r == 0 ? c.endpoint : "-", err ? err->message : "");
    aws_config_clear(&c);
}

int
main(void)
{
#define KEYS "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=envsecret"
    static const char *const all[] = { KEYS,
                                       "AWS_PROFILE=other",
                                       "MACHINE_AWS_PROFILE=other",
                                       "AWS_REGION=us-east-2",
                                       "AWS_DEFAULT_REGION=ca-central-1",
                                       "MACHINE_AWS_REGION=eu-central-1",
                                       "AWS_ENDPOINT_URL=http://127.0.0.1:1",
                                       "AWS_ENDPOINT_URL_EC2=http://127.0.0.1:2",
                                       "MACHINE_AWS_ENDPOINT=http://127.0.0.1:3",
                                       NULL };
    static const char *const no_machine[] = { KEYS,
                                              "AWS_PROFILE=other",
                                              "AWS_REGION=us-east-2",
                                              "AWS_DEFAULT_REGION=ca-central-1",
                                              "AWS_ENDPOINT_URL=http://127.0.0.1:1",
                                              "AWS_ENDPOINT_URL_EC2=http://127.0.0.1:2",
                                              NULL };
    static const char *const lowest[] = { "AWS_PROFILE=other", "AWS_DEFAULT_REGION=ca-central-1",
                                          "AWS_ENDPOINT_URL=http://127.0.0.1:1", NULL };
    static const struct want cases[] = {
        { "--aws-region us-west-2 --aws-profile dev --aws-endpoint http://127.0.0.1:4 web1", all,
          "us-west-2", "AKIADEV", "http://127.0.0.1:4",
          "flags beat MACHINE_AWS_*, AWS_* and the environment's keys" },
        { "web1", all, "eu-central-1", "AKIAOTHER", "http://127.0.0.1:3",
          "MACHINE_AWS_* beat AWS_* (MACHINE_AWS_PROFILE is explicit: it beats the keys)" },
        { "web1", no_machine, "us-east-2", "AKIAENV", "http://127.0.0.1:2",
          "then AWS_REGION, the environment's keys before AWS_PROFILE, AWS_ENDPOINT_URL_EC2" },
        { "web1", lowest, "ca-central-1", "AKIAOTHER", "http://127.0.0.1:1",
          "then AWS_DEFAULT_REGION, AWS_PROFILE's keys, AWS_ENDPOINT_URL" },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++)
        check(&cases[i]);
    return tap_done();
}
