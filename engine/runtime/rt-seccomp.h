/* The default seccomp profile, equivalent to moby's profiles/seccomp/default.json: default action
 * EPERM, an allow list, socket(AF_VSOCK) refused, clone's namespace flags refused and clone3
 * answered ENOSYS without CAP_SYS_ADMIN, and the capability-gated syscalls.
 *
 * libseccomp compiles a filter once per distinct set of relevant capabilities (in practice once
 * per daemon: Docker's default set); the BPF program is exported and kept, and each container's
 * child only loads it (eng_seccomp_load), which needs no allocation and no libseccomp. */
#ifndef ENG_RT_SECCOMP_H
#define ENG_RT_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct sock_filter;

/* An exported BPF program, immutable once built and shared by every container that uses it. */
struct eng_seccomp_prog {
    uint64_t caps_key; /* the relevant capabilities it was built for */
    struct sock_filter *insns;
    size_t n;
};

/* The program for a container with capabilities caps: built on first use, then cached for the
 * life of the daemon (thread-safe). Owned by the cache; never freed by callers. */
const struct eng_seccomp_prog *eng_seccomp_default(uint64_t caps, struct mc_error **err);

/* Builds a program without the cache (tests and benchmarks); free with eng_seccomp_prog_free. */
struct eng_seccomp_prog *eng_seccomp_build(uint64_t caps, struct mc_error **err);
void eng_seccomp_prog_free(struct eng_seccomp_prog *p);

/* Loads prog into the calling thread (async-signal-safe: for the container child). Needs
 * no_new_privs or CAP_SYS_ADMIN. Returns 0, or -errno. */
int eng_seccomp_load(const struct eng_seccomp_prog *prog);

/* The capabilities that change the default profile (CAP_SYS_ADMIN, CAP_SYS_PTRACE, ...). */
uint64_t eng_seccomp_relevant_caps(void);

#endif
