/* Container states, docker's Status text and restart policies (pure). */
#include <stdio.h>
#include <string.h>

#include "ctr-pure.h"
#include "json.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const char *const state_names[ENG_CTR__STATE_MAX] = {
    [ENG_CTR_CREATED] = "created",       [ENG_CTR_RUNNING] = "running", [ENG_CTR_PAUSED] = "paused",
    [ENG_CTR_RESTARTING] = "restarting", [ENG_CTR_EXITED] = "exited",   [ENG_CTR_DEAD] = "dead",
    [ENG_CTR_REMOVING] = "removing",
};

const char *
eng_ctr_state_name(enum eng_ctr_state s)
{
    return s < ENG_CTR__STATE_MAX ? state_names[s] : "unknown";
}

int
eng_ctr_state_from_name(const char *name)
{
    for (int i = 0; i < ENG_CTR__STATE_MAX; i++)
        if (streq(state_names[i], name))
            return i;
    return -1;
}

char *
eng_ctr_status_text(const struct eng_ctr_state_info *s, int64_t now_ns)
{
    char d[64];
    switch (s->state) {
    case ENG_CTR_RUNNING:
        return xasprintf("Up %s", mc_human_duration(now_ns - s->started_ns, d, sizeof(d)));
    case ENG_CTR_PAUSED:
        return xasprintf("Up %s (Paused)", mc_human_duration(now_ns - s->started_ns, d, sizeof(d)));
    case ENG_CTR_RESTARTING:
        return xasprintf("Restarting (%d) %s ago", s->exit_code,
                         mc_human_duration(now_ns - s->finished_ns, d, sizeof(d)));
    case ENG_CTR_REMOVING:
        return xstrdup("Removal In Progress");
    case ENG_CTR_DEAD:
        return xstrdup("Dead");
    case ENG_CTR_CREATED:
        return xstrdup("Created");
    case ENG_CTR_EXITED:
    default:
        if (s->started_ns == 0)
            return xstrdup("Created");
        if (s->finished_ns == 0)
            return xstrdup("");
        return xasprintf("Exited (%d) %s ago", s->exit_code,
                         mc_human_duration(now_ns - s->finished_ns, d, sizeof(d)));
    }
}

int
eng_ctr_restart_parse(const json_t *policy, struct eng_ctr_restart *ret, struct mc_error **err)
{
    const char *name = mc_json_str(policy, "Name");
    int64_t max = mc_json_int(policy, "MaximumRetryCount", 0);
    struct eng_ctr_restart r = { ENG_CTR_RESTART_NO, 0 };
    if (isempty(name) || streq(name, "no"))
        r.policy = ENG_CTR_RESTART_NO;
    else if (streq(name, "always"))
        r.policy = ENG_CTR_RESTART_ALWAYS;
    else if (streq(name, "unless-stopped"))
        r.policy = ENG_CTR_RESTART_UNLESS_STOPPED;
    else if (streq(name, "on-failure"))
        r.policy = ENG_CTR_RESTART_ON_FAILURE;
    else
        return mc_error_set(err, MC_ERR_INVALID, "invalid restart policy '%s'", name);
    if (max < 0)
        return mc_error_set(err, MC_ERR_INVALID,
                            "invalid restart policy: maximum retry count cannot be negative");
    if (max > 0 && r.policy != ENG_CTR_RESTART_ON_FAILURE)
        return mc_error_set(err, MC_ERR_INVALID,
                            "invalid restart policy: maximum retry count can only be used with "
                            "'on-failure'");
    r.max_retries = (int)max;
    *ret = r;
    return 0;
}

bool
eng_ctr_should_restart(const struct eng_ctr_restart *p, int exit_code, bool manually_stopped,
                       int restart_count)
{
    switch (p->policy) {
    case ENG_CTR_RESTART_ALWAYS:
        return true;
    case ENG_CTR_RESTART_UNLESS_STOPPED:
        return !manually_stopped;
    case ENG_CTR_RESTART_ON_FAILURE:
        return exit_code != 0 && (p->max_retries == 0 || restart_count < p->max_retries);
    case ENG_CTR_RESTART_NO:
    default:
        return false;
    }
}

int64_t
eng_ctr_restart_delay_ms(int64_t previous_ms, int64_t ran_ms)
{
    if (previous_ms <= 0 || ran_ms >= 10000)
        return 100;
    int64_t next = previous_ms * 2;
    return next > 60000 ? 60000 : next;
}
