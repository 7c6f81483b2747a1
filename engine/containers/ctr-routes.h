/* The containers module's handlers and hooks, shared between its files. Internal. */
#ifndef ENG_CTR_ROUTES_H
#define ENG_CTR_ROUTES_H

#include "api-handler.h"
#include "engine.h"

/* ctr-stream.c: the handlers that hold their connection. */
int ctr_h_wait(struct eng_request *req, struct mc_error **err);
int ctr_h_attach(struct eng_request *req, struct mc_error **err);
int ctr_h_logs(struct eng_request *req, struct mc_error **err);
int ctr_h_exec_start(struct eng_request *req, struct mc_error **err);
/* ctr-stats.c: GET /containers/{id}/stats (docker stats). */
int ctr_h_stats(struct eng_request *req, struct mc_error **err);

/* ctr-module.c: start-up (records, restore, restart policies), SIGTERM, /info. */
int ctr_module_init(struct eng_daemon *d, struct mc_error **err);
void ctr_module_shutdown(struct eng_daemon *d);
void ctr_module_info(json_t *info);

#endif
