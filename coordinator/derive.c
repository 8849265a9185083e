/*  derive.c: refine studies' centres, and `hpo study refine`'s study file.

    Both edit a study file's YAML as a document (libfyaml) and write it
    back, so what is stored is an ordinary study file that parses alone.
    The text handed in has been parsed by then, so a failure here is the
    coordinator's, not the user's: it is reported, not asserted.          */
#include "derive.h"

#include <jansson.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

#include "../common/mem.h"
#include "../common/params.h"
#include "../search/refine.h"

//  ---- YAML documents ------------------------------------------------------

static struct fy_document *
s_doc (const char *text)
{
    struct fy_parse_cfg cfg = {.flags =
                                   FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2};
    struct fy_document *doc = fy_document_build_from_string (&cfg, text, FY_NT);
    if (doc && !fy_node_is_mapping (fy_document_root (doc)))
        fy_document_destroy (doc);
    else if (doc)
        return doc;
    return NULL;
}

//  A single-quoted YAML scalar of s: nothing in it is special but '.
static struct fy_node *
s_quoted (struct fy_document *doc, const char *s)
{
    size_t len = strlen (s), n = 0;
    char *q = hpo_malloc (2 * len + 3);
    q[n++] = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            q[n++] = '\'';
        q[n++] = *p;
    }
    q[n++] = '\'';
    q[n] = 0;
    //  The document keeps pointers into its source, and frees it with
    //  itself (on failure too, where a short leak beats a double free).
    return fy_node_build_from_malloc_string (doc, q, n);
}

//  Sets key of mapping map to value (replacing, or appended).
static int
s_set (struct fy_document *doc, struct fy_node *map, const char *key,
       struct fy_node *value)
{
    if (!value)
        return -1;
    struct fy_node_pair *pair =
        fy_node_mapping_lookup_pair_by_string (map, key, FY_NT);
    if (pair)
        return fy_node_pair_set_value (pair, value);
    struct fy_node *k = fy_node_create_scalar_copy (doc, key, strlen (key));
    return k ? fy_node_mapping_append (map, k, value) : -1;
}

//  Removes key from mapping map, if there. fy_node_mapping_remove would
//  leave the pair unfreed; removing by key frees the pair and the key it
//  is given, and hands back the value.
static void
s_remove (struct fy_document *doc, struct fy_node *map, const char *key)
{
    if (!fy_node_mapping_lookup_pair_by_string (map, key, FY_NT))
        return;
    struct fy_node *k = fy_node_create_scalar_copy (doc, key, strlen (key));
    if (!k)
        return;
    fy_node_free (fy_node_mapping_remove_by_key (map, k));
}

static char *
s_emit (struct fy_document *doc, char **error)
{
    char *text = fy_emit_document_to_string (
        doc, FYECF_WIDTH_INF | FYECF_MODE_ORIGINAL | FYECF_INDENT_DEFAULT);
    if (!text)
        *error = hpo_strdup ("the coordinator could not write the study file");
    return text;
}

//  ---- centres ---------------------------------------------------------

static int s_maximize; //  qsort has no context argument

static int
s_best_first (const void *a_, const void *b_)
{
    const hpo_trial_t *a = *(hpo_trial_t *const *)a_;
    const hpo_trial_t *b = *(hpo_trial_t *const *)b_;
    if (a->value != b->value)
        return (a->value < b->value) != s_maximize ? -1 : 1;
    return a->number < b->number ? -1 : 1;
}

//  The top COMPLETE trials of from as a JSON list, best first; NULL when
//  it has none.
static char *
s_centres_json (const hpo_study_t *from, uint64_t top)
{
    hpo_trial_t **done = hpo_calloc (from->n_trials + 1, sizeof *done);
    size_t n = 0;
    for (size_t k = 0; k < from->n_trials; k++) {
        hpo_trial_t *t = from->trials[k];
        if (t && t->state == HPO_TRIAL_COMPLETE && t->has_value)
            done[n++] = t;
    }
    s_maximize = from->spec->maximize;
    qsort (done, n, sizeof *done, s_best_first);
    json_t *list = json_array ();
    for (size_t k = 0; k < n && k < top; k++)
        json_array_append_new (list,
                               hpo_params_json (from->names, done[k]->params,
                                                from->spec->n_params));
    free (done);
    char *text =
        n ? json_dumps (list, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref (list);
    return text;
}

char *
hpo_derive_centres (hpo_sched_t *sched, const hpo_spec_t *spec,
                    const char *text, char **error)
{
    const char *name = hpo_refine_from (spec);
    hpo_study_t *from = name ? hpo_sched_study (sched, name) : NULL;
    if (!from) {
        *error = hpo_sprintf ("sampler.from: there is no study %s to refine",
                              name ? name : "");
        return NULL;
    }
    if ((*error = hpo_refine_mismatch (spec, from->spec)))
        return NULL;
    char *centres = s_centres_json (from, hpo_refine_top (spec));
    if (!centres) {
        *error = hpo_sprintf ("sampler.from: study %s has no COMPLETE trial "
                              "to refine around yet",
                              from->name);
        return NULL;
    }
    struct fy_document *doc = s_doc (text);
    struct fy_node *sampler =
        doc ? fy_node_mapping_lookup_by_string (fy_document_root (doc),
                                                "sampler", FY_NT)
            : NULL;
    char *out = NULL;
    if (sampler && fy_node_is_mapping (sampler) &&
        s_set (doc, sampler, "centres", s_quoted (doc, centres)) == 0)
        out = s_emit (doc, error);
    else
        *error = hpo_strdup ("the coordinator could not write the centres");
    fy_document_destroy (doc);
    free (centres);
    return out;
}

//  ---- hpo study refine ------------------------------------------------

//  FROM-refine, or the first of FROM-refine2, -refine3 ... not taken.
static char *
s_free_name (hpo_sched_t *sched, const char *from)
{
    char *name = hpo_sprintf ("%s-refine", from);
    for (int k = 2; hpo_sched_study (sched, name); k++) {
        free (name);
        name = hpo_sprintf ("%s-refine%d", from, k);
    }
    return name;
}

//  The scalar at path under the root of doc, as a malloc'd string.
static char *
s_scalar (struct fy_document *doc, const char *path)
{
    struct fy_node *node = fy_node_by_path (fy_document_root (doc), path, FY_NT,
                                            FYNWF_DONT_FOLLOW);
    size_t len;
    const char *s = node && fy_node_is_scalar (node)
                        ? fy_node_get_scalar (node, &len)
                        : NULL;
    return s ? hpo_strndup (s, len) : NULL;
}

//  Writes the source study's file over with name and sampler.
static char *
s_refine_text (struct fy_document *req, const char *source, const char *name,
               char **error)
{
    struct fy_document *doc = s_doc (source);
    if (!doc) {
        *error = hpo_strdup ("the coordinator could not read the study file "
                             "to refine");
        return NULL;
    }
    struct fy_node *root = fy_document_root (doc);
    struct fy_node *sampler =
        fy_node_copy (doc, fy_node_mapping_lookup_by_string (
                               fy_document_root (req), "sampler", FY_NT));
    char *out = NULL;
    if (s_set (doc, root, "name", s_quoted (doc, name)) == 0 &&
        s_set (doc, root, "sampler", sampler) == 0) {
        s_remove (doc, root, "pruner");
        struct fy_node *budget =
            fy_node_mapping_lookup_by_string (root, "budget", FY_NT);
        if (budget && fy_node_is_mapping (budget)) {
            s_remove (doc, budget, "trials");
            if (fy_node_mapping_item_count (budget) == 0)
                s_remove (doc, root, "budget");
        }
        out = s_emit (doc, error);
    } else
        *error = hpo_strdup ("the coordinator could not write the study file");
    fy_document_destroy (doc);
    return out;
}

char *
hpo_derive_refine (hpo_sched_t *sched, const char *request, char **error)
{
    struct fy_document *req = s_doc (request);
    char *from = req ? s_scalar (req, "/sampler/from") : NULL;
    hpo_study_t *study = from ? hpo_sched_study (sched, from) : NULL;
    char *out = NULL;
    if (!study)
        *error = from ? hpo_sprintf ("there is no study %s to refine", from)
                      : hpo_strdup ("a refine request needs sampler.from");
    else {
        char *name = s_scalar (req, "/name");
        if (!name)
            name = s_free_name (sched, from);
        out = s_refine_text (req, study->spec_text, name, error);
        free (name);
    }
    free (from);
    if (req)
        fy_document_destroy (req);
    return out;
}
