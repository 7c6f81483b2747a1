#include "tap.h"
#include "url.h"
#include "xalloc.h"

int
main(void)
{
    struct mc_url u = { 0 };
    struct mc_error *err = NULL;
    ok(mc_url_parse("tcp://192.0.2.10:2376", 0, &u, &err) == 0, "tcp URL parses");
    is_str(u.scheme, "tcp", "scheme");
    is_str(u.host, "192.0.2.10", "host");
    is_int(u.port, 2376, "port");
    mc_url_clear(&u);

    ok(mc_url_parse("TCP://[fd00::1]:2376", 0, &u, &err) == 0, "IPv6 URL parses");
    is_str(u.host, "fd00::1", "brackets removed");
    is_str(u.scheme, "tcp", "scheme lower-cased");
    _cleanup_free_ char *hp = mc_url_hostport(&u);
    is_str(hp, "[fd00::1]:2376", "host:port puts the brackets back");
    mc_url_clear(&u);

    ok(mc_url_parse("unix:///run/machined.sock", 0, &u, &err) == 0, "unix URL parses");
    is_str(u.path, "/run/machined.sock", "socket path");
    mc_url_clear(&u);

    ok(mc_url_parse("http://127.0.0.1/x?y", 80, &u, &err) == 0, "default port applied");
    is_int(u.port, 80, "port 80");
    is_str(u.path, "/x?y", "path kept");
    mc_url_clear(&u);

    ok(mc_url_parse("127.0.0.1:2376", 0, &u, &err) < 0, "missing scheme refused");
    ok(err && err->code == MC_ERR_INVALID, "as invalid");
    mc_error_free(err);
    err = NULL;
    ok(mc_url_parse("tcp://h:99999", 0, &u, &err) < 0, "port out of range refused");
    mc_error_free(err);
    err = NULL;
    ok(mc_url_parse("unix://relative", 0, &u, &err) < 0, "relative socket refused");
    mc_error_free(err);
    return tap_done();
}
