/*  http.h: the dashboard's HTTP server (docs/dashboard.md), run by the
    coordinator when --http is given. libmicrohttpd serves the embedded
    page, the JSON API (dash/api.h) and the event stream from the read
    model (dash/model.h), in threads of its own; the loop only hands it
    committed batches. Read-only; every request needs the token.         */
#ifndef HPO_HTTP_H
#define HPO_HTTP_H

#include "batch.h"
#include "model.h"

typedef struct {
    const char *listen;     //  "PORT" (127.0.0.1) or "ADDR:PORT"; port 0:
                            //  the kernel picks
    const char *token_file; //  its first line is the token
} hpo_http_config_t;

typedef struct _hpo_http_t hpo_http_t;

//  Starts serving model (which it takes, already loaded from the store).
//  NULL with *error set (caller frees) if the token file cannot be read
//  or is empty, or the address cannot be bound; *model_p is then freed.
hpo_http_t *hpo_http_new (const hpo_http_config_t *cfg, hpo_model_t **model_p,
                          char **error);
//  Stops serving, closes every connection, frees everything.
void hpo_http_destroy (hpo_http_t **self_p);
//  The address bound, as "http://ADDR:PORT/".
const char *hpo_http_url (hpo_http_t *self);
//  Hands over a committed batch (takes it). Called from the loop thread:
//  a mutex-held append, it never waits on a request or on applying.
void hpo_http_push (hpo_http_t *self, hpo_batch_t **batch_p);

#endif
