/*  api.h: the dashboard's JSON answers (docs/dashboard.md, "Endpoints"),
    built from the read model. dash/http.c calls it for a live
    coordinator; cli/report.c for the answers it embeds in a report. It
    does not change the model (a cache it keeps has its own lock), so
    several readers may call it at once.                                 */
#ifndef HPO_API_H
#define HPO_API_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

//  Answers GET path (the part before '?', percent-decoding not yet done)
//  with query (the part after '?', or NULL). Returns the HTTP status (200,
//  400, 404) and sets *body to a malloc'd JSON document of *len bytes
//  (an {"error": ...} one unless 200). version is the id of the last
//  live event sent (the answers' "version"); now is unix seconds.
int hpo_api_get (hpo_model_t *model, const char *path, const char *query,
                 uint64_t version, double now, char **body, size_t *len);

#endif
