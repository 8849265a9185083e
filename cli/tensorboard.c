/*  tensorboard.c: hpo export --tensorboard (tensorboard.h). Messages are
    built on the stack from borrowed strings, packed, and framed as
    TFRecords into a buffer; a run's buffer is appended to its file once
    per update, so no file stays open between polls (a study may have
    thousands of runs).                                                   */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/mem.h"
#include "../common/spec.h"
#include "../common/value.h"
#include "tensorboard.h"
#include "tensorboard/event.pb-c.h"
#include "tensorboard/hparams.pb-c.h"

//  The HParams plugin's name, version and tags (TensorBoard's
//  tensorboard/plugins/hparams/metadata.py).
#define S_PLUGIN "hparams"
#define S_TAG_EXPERIMENT "_hparams_/experiment"
#define S_TAG_START "_hparams_/session_start_info"
#define S_TAG_END "_hparams_/session_end_info"
#define S_NO_STEP INT64_MIN
//  Runs are kept by trial number in one array. A run per trial is one
//  directory per trial, which TensorBoard cannot show by the millions
//  anyway; a larger number (from a confused peer) is refused instead of
//  growing the array.
#define S_MAX_TRIAL (1u << 26)

//  What has been written of one trial's run.
typedef struct {
    char *path;         //  its events file; NULL until the trial ran
    uint32_t attempt;   //  the attempt whose values are written
    int64_t *last_step; //  per metric (self->metrics): highest step
    size_t n_last;      //  written of this attempt, or S_NO_STEP
    int ended;          //  the session end is written
} s_run_t;

//  TFRecords waiting to be appended to a file.
typedef struct {
    uint8_t *data;
    size_t len, cap;
} s_buf_t;

struct _hpo_tb_t {
    char *dir;
    char *host;
    int started;     //  the study was read (first update)
    char *objective; //  its metric
    double created;
    hpo_spec_t *spec; //  NULL: none came, or it did not parse
    char **metrics;   //  every metric seen, objective first
    size_t n_metrics;
    char **params; //  every parameter seen (without a spec)
    size_t n_params;
    s_run_t *runs; //  by trial number
    size_t n_runs;
    size_t n_started, n_scalars;
    uint64_t first_open; //  hpo_tb_first_open
    unsigned files;      //  files made, for unique names
    int finished;
};

//  ---- CRC-32C and TFRecord framing

//  The Castagnoli polynomial, 0x1EDC6F41, bit-reversed: CRC-32C is
//  computed LSB first (RFC 3720, appendix B.4).
#define S_CRC32C_POLY 0x82F63B78u

uint32_t
hpo_tb_crc32c (const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t k = 0; k < 256; k++) {
            uint32_t c = k;
            for (int bit = 0; bit < 8; bit++)
                c = c & 1 ? (c >> 1) ^ S_CRC32C_POLY : c >> 1;
            table[k] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t k = 0; k < len; k++)
        crc = table[(crc ^ p[k]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

uint32_t
hpo_tb_crc_mask (uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static uint8_t *
s_buf_grow (s_buf_t *buf, size_t n)
{
    if (buf->len + n > buf->cap) {
        buf->cap = buf->cap * 2 > buf->len + n ? buf->cap * 2 : buf->len + n;
        buf->data = hpo_realloc (buf->data, buf->cap);
    }
    uint8_t *at = buf->data + buf->len;
    buf->len += n;
    return at;
}

static void
s_put_le (uint8_t *at, uint64_t x, int bytes)
{
    for (int k = 0; k < bytes; k++)
        at[k] = (uint8_t)(x >> (8 * k));
}

//  One record: length, its masked CRC, the event, the event's masked CRC.
static void
s_record (s_buf_t *buf, const Tensorboard__Event *event)
{
    size_t len = tensorboard__event__get_packed_size (event);
    uint8_t *at = s_buf_grow (buf, 12 + len + 4);
    s_put_le (at, len, 8);
    s_put_le (at + 8, hpo_tb_crc_mask (hpo_tb_crc32c (at, 8)), 4);
    tensorboard__event__pack (event, at + 12);
    s_put_le (at + 12 + len, hpo_tb_crc_mask (hpo_tb_crc32c (at + 12, len)), 4);
}

//  ---- events

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
s_file_version (s_buf_t *buf)
{
    Tensorboard__Event event = TENSORBOARD__EVENT__INIT;
    event.wall_time = s_now ();
    event.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
    event.file_version = "brain.Event:2";
    s_record (buf, &event);
}

static void
s_scalar (s_buf_t *buf, const char *tag, int64_t step, double value)
{
    Tensorboard__Summary__Value v = TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = (float)value;
    Tensorboard__Summary__Value *values[] = {&v};
    Tensorboard__Summary summary = TENSORBOARD__SUMMARY__INIT;
    summary.n_value = 1;
    summary.value = values;
    Tensorboard__Event event = TENSORBOARD__EVENT__INIT;
    event.wall_time = s_now ();
    event.step = step;
    event.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
    event.summary = &summary;
    s_record (buf, &event);
}

//  A summary of the HParams plugin: its data in the metadata, and the
//  empty float tensor TensorBoard's own writer gives it as the value.
static void
s_plugin_event (s_buf_t *buf, const char *tag, double wall_time,
                Tensorboard__Hparams__HParamsPluginData *data)
{
    data->version = 0;
    size_t len =
        tensorboard__hparams__hparams_plugin_data__get_packed_size (data);
    uint8_t *content = hpo_malloc (len ? len : 1);
    tensorboard__hparams__hparams_plugin_data__pack (data, content);
    Tensorboard__SummaryMetadata__PluginData plugin =
        TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    plugin.plugin_name = S_PLUGIN;
    plugin.content.data = content;
    plugin.content.len = len;
    Tensorboard__SummaryMetadata metadata = TENSORBOARD__SUMMARY_METADATA__INIT;
    metadata.plugin_data = &plugin;
    Tensorboard__TensorShapeProto__Dim dim =
        TENSORBOARD__TENSOR_SHAPE_PROTO__DIM__INIT;
    Tensorboard__TensorShapeProto__Dim *dims[] = {&dim};
    Tensorboard__TensorShapeProto shape = TENSORBOARD__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 1;
    shape.dim = dims;
    Tensorboard__TensorProto tensor = TENSORBOARD__TENSOR_PROTO__INIT;
    tensor.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    tensor.tensor_shape = &shape;
    Tensorboard__Summary__Value v = TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.metadata = &metadata;
    v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = &tensor;
    Tensorboard__Summary__Value *values[] = {&v};
    Tensorboard__Summary summary = TENSORBOARD__SUMMARY__INIT;
    summary.n_value = 1;
    summary.value = values;
    Tensorboard__Event event = TENSORBOARD__EVENT__INIT;
    event.wall_time = wall_time > 0 ? wall_time : s_now ();
    event.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
    event.summary = &summary;
    s_record (buf, &event);
    free (content);
}

//  ---- files

//  Appends buf to path (made if missing) and empties buf.
static int
s_flush (const char *path, s_buf_t *buf)
{
    if (buf->len == 0)
        return 0;
    FILE *file = fopen (path, "ab");
    int rc = file && fwrite (buf->data, 1, buf->len, file) == buf->len ? 0 : -1;
    if (file && fclose (file) != 0)
        rc = -1;
    if (rc)
        hpo_log_warn ("cannot write %s", path);
    buf->len = 0;
    return rc;
}

//  A new events file's path in dir: TensorBoard reads the files of a
//  directory in name order, and finds them by "tfevents" in the name.
static char *
s_events_path (hpo_tb_t *self, const char *dir)
{
    return hpo_sprintf ("%s/events.out.tfevents.%lld.%s.%d.%u", dir,
                        (long long)time (NULL), self->host, (int)getpid (),
                        self->files++);
}

static int
s_dir_empty (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return -1;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir (d)))
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
            empty = 0;
    closedir (d);
    return empty;
}

hpo_tb_t *
hpo_tb_new (const char *dir, char **why)
{
    assert (dir && why);
    *why = NULL;
    if (mkdir (dir, 0777) != 0 && errno != EEXIST) {
        *why = hpo_sprintf ("cannot make %s: %s", dir, strerror (errno));
        return NULL;
    }
    int empty = s_dir_empty (dir);
    if (empty <= 0) {
        *why = empty < 0
                   ? hpo_sprintf ("cannot read %s: %s", dir, strerror (errno))
                   : hpo_sprintf ("%s is not empty: an export does "
                                  "not resume; give a new or empty "
                                  "directory",
                                  dir);
        return NULL;
    }
    hpo_tb_t *self = hpo_calloc (1, sizeof *self);
    self->dir = hpo_strdup (dir);
    char host[256] = "";
    if (gethostname (host, sizeof host - 1) != 0 || !*host)
        strcpy (host, "localhost");
    //  The host is part of a file name: no path separator in it.
    for (char *c = host; *c; c++)
        if (*c == '/')
            *c = '_';
    self->host = hpo_strdup (host);
    return self;
}

void
hpo_tb_destroy (hpo_tb_t **self_p)
{
    assert (self_p);
    hpo_tb_t *self = *self_p;
    if (!self)
        return;
    for (size_t k = 0; k < self->n_runs; k++) {
        free (self->runs[k].path);
        free (self->runs[k].last_step);
    }
    free (self->runs);
    for (size_t k = 0; k < self->n_metrics; k++)
        free (self->metrics[k]);
    free (self->metrics);
    for (size_t k = 0; k < self->n_params; k++)
        free (self->params[k]);
    free (self->params);
    hpo_spec_destroy (&self->spec);
    free (self->objective);
    free (self->host);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  ---- trials

//  The index of name in *names, added if new.
static size_t
s_intern (char ***names, size_t *n, const char *name)
{
    for (size_t k = 0; k < *n; k++)
        if (strcmp ((*names)[k], name) == 0)
            return k;
    *names = hpo_realloc (*names, (*n + 1) * sizeof **names);
    (*names)[*n] = hpo_strdup (name);
    return (*n)++;
}

static s_run_t *
s_run (hpo_tb_t *self, uint64_t number)
{
    if (number >= self->n_runs) {
        size_t n = self->n_runs ? self->n_runs : 64;
        while (n <= number)
            n *= 2;
        self->runs = hpo_realloc (self->runs, n * sizeof *self->runs);
        memset (self->runs + self->n_runs, 0,
                (n - self->n_runs) * sizeof *self->runs);
        self->n_runs = n;
    }
    return &self->runs[number];
}

//  run's last step of metric m: a slot for every metric known.
static int64_t *
s_last_step (hpo_tb_t *self, s_run_t *run, size_t m)
{
    if (run->n_last < self->n_metrics) {
        run->last_step = hpo_realloc (run->last_step,
                                      self->n_metrics * sizeof *run->last_step);
        for (size_t k = run->n_last; k < self->n_metrics; k++)
            run->last_step[k] = S_NO_STEP;
        run->n_last = self->n_metrics;
    }
    return &run->last_step[m];
}

//  The session start: the trial's parameters; one absent from it (when:)
//  has no entry.
static void
s_session_start (hpo_tb_t *self, s_buf_t *buf, const Hpo__TrialInfo *t)
{
    size_t n = t->n_params;
    Tensorboard__Hparams__HParamEntry entries[n ? n : 1];
    Tensorboard__Hparams__HParamEntry *list[n ? n : 1];
    Tensorboard__Hparams__Value values[n ? n : 1];
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        const Hpo__Param *p = t->params[k];
        Tensorboard__Hparams__Value *v = &values[used];
        tensorboard__hparams__value__init (v);
        if (p->kind == HPO_KIND_FLOAT || p->kind == HPO_KIND_INT) {
            v->kind_case = TENSORBOARD__HPARAMS__VALUE__KIND_NUMBER_VALUE;
            v->number_value = p->kind == HPO_KIND_FLOAT ? p->f : (double)p->i;
        } else if (p->kind == HPO_KIND_STR) {
            v->kind_case = TENSORBOARD__HPARAMS__VALUE__KIND_STRING_VALUE;
            v->string_value = p->s ? p->s : "";
        } else
            continue;
        s_intern (&self->params, &self->n_params, p->name);
        tensorboard__hparams__hparam_entry__init (&entries[used]);
        entries[used].key = p->name;
        entries[used].value = v;
        list[used] = &entries[used];
        used++;
    }
    char group[32];
    snprintf (group, sizeof group, "%llu", (unsigned long long)t->number);
    Tensorboard__Hparams__SessionStartInfo start =
        TENSORBOARD__HPARAMS__SESSION_START_INFO__INIT;
    start.n_hparams = used;
    start.hparams = list;
    start.group_name = group;
    start.start_time_secs = t->started;
    Tensorboard__Hparams__HParamsPluginData data =
        TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__INIT;
    data.data_case =
        TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO;
    data.session_start_info = &start;
    s_plugin_event (buf, S_TAG_START, t->started, &data);
}

//  The values of the trial's current attempt past what was written. A
//  new attempt starts the curves over.
static void
s_values (hpo_tb_t *self, s_buf_t *buf, s_run_t *run, const Hpo__TrialInfo *t)
{
    if (t->attempt != run->attempt) {
        for (size_t k = 0; k < run->n_last; k++)
            run->last_step[k] = S_NO_STEP;
        run->attempt = t->attempt;
    }
    for (size_t k = 0; k < t->n_values; k++) {
        const Hpo__IntermediateValue *v = t->values[k];
        //  0: a coordinator that does not say, whose values are the
        //  latest attempt's.
        if (v->attempt != 0 && v->attempt != t->attempt)
            continue;
        size_t m = s_intern (&self->metrics, &self->n_metrics, v->metric);
        int64_t *last = s_last_step (self, run, m);
        if (*last != S_NO_STEP && v->step <= *last)
            continue;
        *last = v->step;
        s_scalar (buf, v->metric, v->step, v->value);
        self->n_scalars++;
    }
}

//  The end of an ended trial: its value as the objective metric's last
//  point, then the session end.
static void
s_session_end (hpo_tb_t *self, s_buf_t *buf, s_run_t *run,
               const Hpo__TrialInfo *t)
{
    int complete = strcmp (t->state, "COMPLETE") == 0;
    int pruned = strcmp (t->state, "PRUNED") == 0;
    if (!complete && !pruned && strcmp (t->state, "FAILED") != 0)
        return;
    int has = t->has_value || (pruned && t->has_last);
    if (has) {
        size_t m = s_intern (&self->metrics, &self->n_metrics, self->objective);
        int64_t last = *s_last_step (self, run, m);
        int64_t step = last != S_NO_STEP ? last
                       : t->has_step     ? t->last_step
                                         : 0;
        s_scalar (buf, self->objective, step,
                  t->has_value ? t->value : t->last_value);
        self->n_scalars++;
    }
    Tensorboard__Hparams__SessionEndInfo end =
        TENSORBOARD__HPARAMS__SESSION_END_INFO__INIT;
    end.status = complete || pruned
                     ? TENSORBOARD__HPARAMS__STATUS__STATUS_SUCCESS
                     : TENSORBOARD__HPARAMS__STATUS__STATUS_FAILURE;
    end.end_time_secs = t->ended;
    Tensorboard__Hparams__HParamsPluginData data =
        TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__INIT;
    data.data_case =
        TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO;
    data.session_end_info = &end;
    s_plugin_event (buf, S_TAG_END, t->ended, &data);
    run->ended = 1;
}

static int
s_trial (hpo_tb_t *self, s_buf_t *buf, const Hpo__TrialInfo *t)
{
    if (!t->state || strcmp (t->state, "WAITING") == 0)
        return 0;
    if (t->number >= S_MAX_TRIAL) {
        hpo_log_error ("trial %llu: an export holds trials below %u only",
                       (unsigned long long)t->number, S_MAX_TRIAL);
        return -1;
    }
    s_run_t *run = s_run (self, t->number);
    if (run->ended)
        return 0;
    if (!run->path) {
        char *dir =
            hpo_sprintf ("%s/%llu", self->dir, (unsigned long long)t->number);
        if (mkdir (dir, 0777) != 0 && errno != EEXIST) {
            hpo_log_warn ("cannot make %s", dir);
            free (dir);
            return -1;
        }
        run->path = s_events_path (self, dir);
        free (dir);
        s_file_version (buf);
        s_session_start (self, buf, t);
        self->n_started++;
    }
    s_values (self, buf, run, t);
    s_session_end (self, buf, run, t);
    return s_flush (run->path, buf);
}

//  The study's objective, creation time and space, the first time.
static void
s_study (hpo_tb_t *self, const Hpo__StudyInfo *study)
{
    if (self->started)
        return;
    self->started = 1;
    self->objective = hpo_strdup (study->objective ? study->objective : "");
    self->created = study->created;
    s_intern (&self->metrics, &self->n_metrics, self->objective);
    if (study->spec && *study->spec) {
        char *error = NULL;
        self->spec = hpo_spec_parse (study->spec, strlen (study->spec),
                                     study->name, &error);
        //  Only the domains are lost: the parameters seen stand in.
        if (!self->spec)
            hpo_log_warnx ("the study's space cannot be read (%s); "
                           "parameters are exported without domains",
                           error ? error : "?");
        free (error);
    }
}

int
hpo_tb_update (hpo_tb_t *self, const Hpo__StudyInfo *study,
               const Hpo__TrialList *trials)
{
    assert (self && study && trials);
    s_study (self, study);
    s_buf_t buf = {0};
    int rc = 0;
    for (size_t k = 0; k < trials->n_trials && rc == 0; k++)
        rc = s_trial (self, &buf, trials->trials[k]);
    free (buf.data);
    while (self->first_open < self->n_runs &&
           self->runs[self->first_open].ended)
        self->first_open++;
    return rc;
}

//  ---- the experiment

//  A parameter's type and domain from the space. A list of values (a
//  categorical's, or a numeric parameter's grid) is discrete; TensorBoard
//  wants one type per list, so a categorical that mixes numbers and
//  strings gets no domain.
static void
s_hparam_domain (const hpo_param_spec_t *p,
                 Tensorboard__Hparams__HParamInfo *info,
                 Tensorboard__Hparams__Interval *interval,
                 Tensorboard__Hparams__ListValue *list)
{
    if (p->n_values == 0) {
        info->type = TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64;
        interval->min_value = p->low;
        interval->max_value = p->high;
        info->domain_case =
            TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_INTERVAL;
        info->domain_interval = interval;
        return;
    }
    size_t strings = 0;
    for (size_t k = 0; k < p->n_values; k++)
        strings += p->values[k].kind == HPO_KIND_STR;
    if (strings != 0 && strings != p->n_values)
        return;
    info->type = strings ? TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_STRING
                         : TENSORBOARD__HPARAMS__DATA_TYPE__DATA_TYPE_FLOAT64;
    for (size_t k = 0; k < p->n_values; k++) {
        Tensorboard__Hparams__Value *v = list->values[k];
        tensorboard__hparams__value__init (v);
        const hpo_value_t *x = &p->values[k];
        if (strings) {
            v->kind_case = TENSORBOARD__HPARAMS__VALUE__KIND_STRING_VALUE;
            v->string_value = x->s;
        } else {
            v->kind_case = TENSORBOARD__HPARAMS__VALUE__KIND_NUMBER_VALUE;
            v->number_value = x->kind == HPO_KIND_INT ? (double)x->i : x->f;
        }
    }
    list->n_values = p->n_values;
    info->domain_case =
        TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE;
    info->domain_discrete = list;
}

//  Every parameter's info for the experiment, in arrays this owns.
typedef struct {
    size_t n;
    Tensorboard__Hparams__HParamInfo *infos, **info_list;
    Tensorboard__Hparams__Interval *intervals;
    Tensorboard__Hparams__ListValue *lists;
    Tensorboard__Hparams__Value *values, **value_list; //  every list's
} s_hparams_t;

//  The space's parameters, or without a space the names seen.
static void
s_hparams_fill (hpo_tb_t *self, s_hparams_t *h)
{
    size_t n = self->spec ? self->spec->n_params : self->n_params;
    size_t n_values = 0;
    for (size_t k = 0; self->spec && k < n; k++)
        n_values += self->spec->params[k].n_values;
    h->n = n;
    h->infos = hpo_calloc (n + 1, sizeof *h->infos);
    h->info_list = hpo_calloc (n + 1, sizeof *h->info_list);
    h->intervals = hpo_calloc (n + 1, sizeof *h->intervals);
    h->lists = hpo_calloc (n + 1, sizeof *h->lists);
    h->values = hpo_calloc (n_values + 1, sizeof *h->values);
    h->value_list = hpo_calloc (n_values + 1, sizeof *h->value_list);
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        Tensorboard__Hparams__HParamInfo *info = &h->infos[k];
        tensorboard__hparams__hparam_info__init (info);
        h->info_list[k] = info;
        if (!self->spec) {
            info->name = self->params[k];
            continue;
        }
        const hpo_param_spec_t *p = &self->spec->params[k];
        info->name = p->name;
        tensorboard__hparams__interval__init (&h->intervals[k]);
        tensorboard__hparams__list_value__init (&h->lists[k]);
        h->lists[k].values = h->value_list + used;
        for (size_t j = 0; j < p->n_values; j++)
            h->value_list[used + j] = &h->values[used + j];
        used += p->n_values;
        s_hparam_domain (p, info, &h->intervals[k], &h->lists[k]);
    }
}

static void
s_hparams_free (s_hparams_t *h)
{
    free (h->infos);
    free (h->info_list);
    free (h->intervals);
    free (h->lists);
    free (h->values);
    free (h->value_list);
}

int
hpo_tb_finish (hpo_tb_t *self)
{
    assert (self);
    if (self->finished)
        return 0;
    self->finished = 1;
    s_hparams_t h = {0};
    s_hparams_fill (self, &h);
    size_t n = self->n_metrics;
    Tensorboard__Hparams__MetricName names[n ? n : 1];
    Tensorboard__Hparams__MetricInfo infos[n ? n : 1];
    Tensorboard__Hparams__MetricInfo *list[n ? n : 1];
    for (size_t k = 0; k < n; k++) {
        tensorboard__hparams__metric_name__init (&names[k]);
        names[k].tag = self->metrics[k];
        tensorboard__hparams__metric_info__init (&infos[k]);
        infos[k].name = &names[k];
        list[k] = &infos[k];
    }
    Tensorboard__Hparams__Experiment experiment =
        TENSORBOARD__HPARAMS__EXPERIMENT__INIT;
    experiment.time_created_secs = self->created;
    experiment.n_hparam_infos = h.n;
    experiment.hparam_infos = h.info_list;
    experiment.n_metric_infos = n;
    experiment.metric_infos = list;
    Tensorboard__Hparams__HParamsPluginData data =
        TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__INIT;
    data.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT;
    data.experiment = &experiment;
    s_buf_t buf = {0};
    s_file_version (&buf);
    s_plugin_event (&buf, S_TAG_EXPERIMENT, 0, &data);
    char *path = s_events_path (self, self->dir);
    int rc = s_flush (path, &buf);
    free (path);
    free (buf.data);
    s_hparams_free (&h);
    return rc;
}

uint64_t
hpo_tb_first_open (hpo_tb_t *self)
{
    assert (self);
    return self->first_open;
}

void
hpo_tb_counts (hpo_tb_t *self, size_t *runs, size_t *scalars)
{
    assert (self);
    *runs = self->n_started;
    *scalars = self->n_scalars;
}
