/* The engine's event stream (GET /events: docker events, and the docker CLI's streaming
 * `docker stats`, which follows containers starting and dying). Modules publish what happened
 * to their objects; the last ENG_EVENTS_KEPT events are kept for since=, and every client
 * following the stream gets the new ones that match its filters. */
#ifndef ENG_API_EVENTS_H
#define ENG_API_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

#define ENG_EVENTS_KEPT 256

/* Publishes an event: type "container" or "image", action ("create", "start", "die",
 * "destroy", "tag", ...), the object's ID, and its attributes ({"name":"web","image":"bb",
 * "exitCode":"0"}; stolen, NULL for none). Never blocks on clients; callable with any lock of
 * the caller held (the stream's lock is taken last). */
void eng_event(const char *type, const char *action, const char *id, json_t *attrs);

/* Pure, for tests: whether an event (dockerd's JSON shape) passes the filters of GET /events
 * ({"type":{"container":true},"event":{...},"container":{...},"image":{...},"label":{...}}). */
bool eng_event_matches(const json_t *event, const json_t *filters);
/* MC_ERR_INVALID ("invalid filter 'x'") for filter keys GET /events does not know. */
int eng_event_filters_check(const json_t *filters, struct mc_error **err);

#endif
