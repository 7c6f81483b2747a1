#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "aws-config.h"
#include "xalloc.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    struct aws_ini ini;
    struct mc_error *err = NULL;
    if (aws_ini_parse(s, "fuzz", &ini, &err) == 0) {
        aws_ini_get(&ini, "default", "region");
        aws_ini_clear(&ini);
    }
    mc_error_free(err);
    err = NULL;
    struct aws_credentials c;
    if (aws_parse_key_pair(s, &c, &err) == 0)
        aws_credentials_clear(&c);
    mc_error_free(err);
    err = NULL;
    struct aws_config_input in = {
        .credentials_text = s, .credentials_path = "c", .config_text = s, .config_path = "f"
    };
    struct aws_config cfg;
    if (aws_config_resolve(&in, &cfg, &err) == 0)
        aws_config_clear(&cfg);
    mc_error_free(err);
    free(s);
    return 0;
}
