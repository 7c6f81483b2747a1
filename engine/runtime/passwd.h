/* The image's /etc/passwd and /etc/group, parsed by us (never getpwnam: machined is static and
 * the names belong to the container, not the host), and Docker's User resolution. Pure. */
#ifndef ENG_PASSWD_H
#define ENG_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct eng_exec_user {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups (setgroups), may be NULL when ngroups is 0 */
    size_t ngroups;
    char *home; /* from passwd, "/" when the user has no entry */
};

/* Resolves a Docker User spec ("", "name", "uid", "name:group", "uid:gid", ...) against the
 * text of passwd and group files (either may be NULL: absent). As runc: a name that is not in
 * passwd is an error, a number need not be; without an explicit group the user's primary group
 * and the groups listing the user's name are used; an empty spec is uid 0 with its entry's
 * home and groups. Fills *ret (free with
 * eng_exec_user_clear) or returns -1 with MC_ERR_INVALID or MC_ERR_NOT_FOUND. */
int eng_exec_user_resolve(const char *spec, const char *passwd, const char *group,
                          struct eng_exec_user *ret, struct mc_error **err);
void eng_exec_user_clear(struct eng_exec_user *u);

/* The name of uid in the text of a passwd file, or the number as text (newly allocated). */
char *eng_passwd_name(const char *passwd, uid_t uid);

#endif
