/*  keys.c: key files (czmq's zcert), the allow directory, the ZAP
    handler, and which endpoints are reachable from the network.

    Why a ZAP handler of our own rather than zauth: zauth's CURVE check
    admits the keys of one directory and gives them no role. Ours reads
    three, and says in the User-Id which ones hold the key, so the
    coordinator's dispatch can refuse what a role may not send.        */
#include "keys.h"

#include <assert.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

#define S_NAME_MAX 64
//  How often the handler looks at the allow directory.
#define S_SCAN_MS 1000
//  A directory changed this recently may change again within the same
//  timestamp tick: it is read again at the next look, changed or not.
#define S_FRESH_NS 2000000000LL

static const struct {
    const char *dir;
    unsigned role;
} s_roles[] = {
    {"worker", HPO_KEYS_WORKER},
    {"client", HPO_KEYS_CLIENT},
    {"admin", HPO_KEYS_ADMIN},
};
#define S_N_ROLES (sizeof s_roles / sizeof *s_roles)

//  A key's name: the file's, less ".key".
static int
s_name_ok (const char *name, size_t len)
{
    if (len == 0 || len > S_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t k = 0; k < len; k++)
        if (!(isalnum ((unsigned char)name[k]) || name[k] == '_' ||
              name[k] == '-' || name[k] == '.'))
            return 0;
    return 1;
}

int
hpo_keys_generate (const char *dir, const char *name, int force, char **error)
{
    assert (name && error);
    if (!s_name_ok (name, strlen (name))) {
        *error = hpo_sprintf ("key name '%.80s': want 1-%d of A-Z a-z 0-9 "
                              "_ . -, not starting with '.'",
                              name, S_NAME_MAX);
        return -1;
    }
    char *path = dir ? hpo_sprintf ("%s/%s.key", dir, name)
                     : hpo_sprintf ("%s.key", name);
    char *secret = hpo_sprintf ("%s_secret", path);
    int rc = -1;
    if (!force && (access (path, F_OK) == 0 || access (secret, F_OK) == 0))
        *error = hpo_sprintf ("%s or %s exists: not overwritten (--force "
                              "replaces it)",
                              path, secret);
    else {
        zcert_t *cert = zcert_new ();
        //  The secret file is created private: no moment where another
        //  user could read it (and chmod again, whatever the umask was).
        mode_t old = umask (077);
        unlink (secret);
        if (!cert || zcert_save (cert, path) != 0 || chmod (secret, 0600))
            *error = hpo_sprintf ("cannot write %s: %s", path,
                                  strerror (errno ? errno : EIO));
        else
            rc = 0;
        umask (old);
        if (rc == 0)
            chmod (path, 0644);
        zcert_destroy (&cert);
    }
    free (path);
    free (secret);
    return rc;
}

static int
s_zero (const uint8_t *key)
{
    for (int k = 0; k < HPO_KEYS_BYTES; k++)
        if (key[k])
            return 0;
    return 1;
}

//  Loads a certificate; NULL with *error set when the file cannot be
//  read or holds no public key.
static zcert_t *
s_load (const char *path, char **error)
{
    if (access (path, R_OK) != 0) {
        *error = hpo_sprintf ("cannot read %s: %s", path, strerror (errno));
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert || s_zero (zcert_public_key (cert))) {
        *error = hpo_sprintf ("%s is not a key file (hpo keygen writes "
                              "them)",
                              path);
        zcert_destroy (&cert);
    }
    return cert;
}

int
hpo_keys_load_secret (hpo_keys_t *keys, const char *path, char **error)
{
    zcert_t *cert = s_load (path, error);
    if (!cert)
        return -1;
    int rc = 0;
    if (s_zero (zcert_secret_key (cert))) {
        *error = hpo_sprintf ("%s holds no secret key (want NAME.key_secret, "
                              "not NAME.key)",
                              path);
        rc = -1;
    } else {
        memcpy (keys->public_key, zcert_public_key (cert), HPO_KEYS_BYTES);
        memcpy (keys->secret_key, zcert_secret_key (cert), HPO_KEYS_BYTES);
    }
    zcert_destroy (&cert);
    return rc;
}

int
hpo_keys_load_server (hpo_keys_t *keys, const char *path, char **error)
{
    zcert_t *cert = s_load (path, error);
    if (!cert)
        return -1;
    memcpy (keys->server_key, zcert_public_key (cert), HPO_KEYS_BYTES);
    keys->has_server_key = 1;
    zcert_destroy (&cert);
    return 0;
}

int
hpo_keys_load (hpo_keys_t *keys, const char *secret, const char *server,
               char **error)
{
    return hpo_keys_load_secret (keys, secret, error) ||
                   hpo_keys_load_server (keys, server, error)
               ? -1
               : 0;
}

int
hpo_keys_endpoint_local (const char *endpoint)
{
    assert (endpoint);
    if (strncmp (endpoint, "ipc://", 6) == 0 ||
        strncmp (endpoint, "inproc://", 9) == 0)
        return 1;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return 0;
    const char *host = endpoint + 6;
    if (strncmp (host, "[::1]:", 6) == 0 ||
        strncmp (host, "localhost:", 10) == 0)
        return 1;
    //  127.0.0.0/8: four numbers, the first 127, then the port.
    unsigned a, b, c, d;
    int n = 0;
    if (sscanf (host, "%u.%u.%u.%u:%n", &a, &b, &c, &d, &n) == 4 && n > 0 &&
        a == 127 && b < 256 && c < 256 && d < 256)
        return 1;
    return 0;
}

unsigned
hpo_keys_user_parse (const char *user_id, char *name, size_t size)
{
    assert (name && size > 0);
    name[0] = '\0';
    const char *colon = user_id ? strchr (user_id, ':') : NULL;
    if (!colon)
        return 0;
    unsigned roles = 0;
    const char *p = user_id;
    while (p < colon) {
        const char *end = memchr (p, ',', (size_t)(colon - p));
        if (!end)
            end = colon;
        for (size_t k = 0; k < S_N_ROLES; k++)
            if (strlen (s_roles[k].dir) == (size_t)(end - p) &&
                memcmp (p, s_roles[k].dir, (size_t)(end - p)) == 0)
                roles |= s_roles[k].role;
        p = end + 1;
    }
    snprintf (name, size, "%s", colon + 1);
    return roles;
}

//  ---- the allow directory -------------------------------------------------

typedef struct {
    uint8_t key[HPO_KEYS_BYTES];
    unsigned roles;
    char name[S_NAME_MAX + 1];
} s_entry_t;

struct _hpo_keys_dir_t {
    char *dir;
    s_entry_t *entries; //  sorted by key
    size_t n, cap;
    struct timespec mtime[S_N_ROLES]; //  as last read; 0: missing
    int scanned;
    hpo_log_limit_t skipped;
};

hpo_keys_dir_t *
hpo_keys_dir_new (const char *dir, char **error)
{
    struct stat st;
    if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        *error = hpo_sprintf ("--allow %s: not a directory (want %s/worker, "
                              "%s/client, %s/admin holding NAME.key files)",
                              dir, dir, dir, dir);
        return NULL;
    }
    hpo_keys_dir_t *self = hpo_calloc (1, sizeof *self);
    self->dir = hpo_strdup (dir);
    return self;
}

void
hpo_keys_dir_destroy (hpo_keys_dir_t **self_p)
{
    hpo_keys_dir_t *self = *self_p;
    if (!self)
        return;
    free (self->entries);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

static int
s_entry_cmp (const void *a, const void *b)
{
    return memcmp (((const s_entry_t *)a)->key, ((const s_entry_t *)b)->key,
                   HPO_KEYS_BYTES);
}

//  Adds path's key with role; the same key in several subdirectories
//  gathers their roles (merged once sorted).
static void
s_add (hpo_keys_dir_t *self, const char *path, const char *name, size_t len,
       unsigned role)
{
    char *error = NULL;
    zcert_t *cert = s_load (path, &error);
    if (!cert) {
        if (hpo_log_limit (&self->skipped, hpo_clock_mono_ms (), 10000))
            hpo_log_warnx ("allow directory: skipped %s", error);
        free (error);
        return;
    }
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->entries =
            hpo_realloc (self->entries, self->cap * sizeof *self->entries);
    }
    s_entry_t *e = &self->entries[self->n++];
    memcpy (e->key, zcert_public_key (cert), HPO_KEYS_BYTES);
    e->roles = role;
    snprintf (e->name, sizeof e->name, "%.*s", (int)len, name);
    zcert_destroy (&cert);
}

static void
s_read_role (hpo_keys_dir_t *self, const char *sub, unsigned role)
{
    DIR *d = opendir (sub);
    if (!d)
        return; //  a role nobody holds
    struct dirent *de;
    while ((de = readdir (d))) {
        size_t len = strlen (de->d_name);
        if (len <= 4 || strcmp (de->d_name + len - 4, ".key") != 0 ||
            !s_name_ok (de->d_name, len - 4))
            continue; //  NAME.key only: secrets and strays are not keys
        char *path = hpo_sprintf ("%s/%s", sub, de->d_name);
        s_add (self, path, de->d_name, len - 4, role);
        free (path);
    }
    closedir (d);
}

//  Sorts the entries and merges a key found under several roles.
static void
s_merge (hpo_keys_dir_t *self)
{
    if (self->n == 0)
        return;
    qsort (self->entries, self->n, sizeof *self->entries, s_entry_cmp);
    size_t out = 0;
    for (size_t k = 1; k < self->n; k++) {
        if (s_entry_cmp (&self->entries[out], &self->entries[k]) == 0)
            self->entries[out].roles |= self->entries[k].roles;
        else
            self->entries[++out] = self->entries[k];
    }
    self->n = out + 1;
}

int
hpo_keys_dir_scan (hpo_keys_dir_t *self)
{
    struct timespec now_ts;
    clock_gettime (CLOCK_REALTIME, &now_ts);
    int changed = !self->scanned;
    struct timespec mtime[S_N_ROLES];
    char *subs[S_N_ROLES];
    for (size_t k = 0; k < S_N_ROLES; k++) {
        subs[k] = hpo_sprintf ("%s/%s", self->dir, s_roles[k].dir);
        struct stat st;
        memset (&mtime[k], 0, sizeof mtime[k]);
        if (stat (subs[k], &st) == 0)
            mtime[k] = st.st_mtim;
        long long age = (now_ts.tv_sec - mtime[k].tv_sec) * 1000000000LL +
                        (now_ts.tv_nsec - mtime[k].tv_nsec);
        if (mtime[k].tv_sec != self->mtime[k].tv_sec ||
            mtime[k].tv_nsec != self->mtime[k].tv_nsec ||
            (mtime[k].tv_sec && age < S_FRESH_NS))
            changed = 1;
    }
    if (changed) {
        self->n = 0;
        for (size_t k = 0; k < S_N_ROLES; k++) {
            s_read_role (self, subs[k], s_roles[k].role);
            self->mtime[k] = mtime[k];
        }
        s_merge (self);
        self->scanned = 1;
    }
    for (size_t k = 0; k < S_N_ROLES; k++)
        free (subs[k]);
    return changed;
}

unsigned
hpo_keys_dir_lookup (hpo_keys_dir_t *self, const uint8_t key[HPO_KEYS_BYTES],
                     char *name, size_t size)
{
    s_entry_t probe;
    memcpy (probe.key, key, HPO_KEYS_BYTES);
    s_entry_t *e = self->n ? bsearch (&probe, self->entries, self->n,
                                      sizeof *self->entries, s_entry_cmp)
                           : NULL;
    if (name && size)
        snprintf (name, size, "%s", e ? e->name : "");
    return e ? e->roles : 0;
}

size_t
hpo_keys_dir_size (hpo_keys_dir_t *self)
{
    return self->n;
}

//  ---- the ZAP handler -------------------------------------------------------

void
hpo_keys_zap_decide (hpo_keys_dir_t *dir, const char *mechanism,
                     const uint8_t *credentials, size_t size,
                     hpo_keys_zap_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    snprintf (reply->status, sizeof reply->status, "400");
    if (strcmp (mechanism, "CURVE") != 0 || size != HPO_KEYS_BYTES) {
        snprintf (reply->text, sizeof reply->text, "CURVE keys required");
        return;
    }
    char name[S_NAME_MAX + 1];
    unsigned roles = hpo_keys_dir_lookup (dir, credentials, name, sizeof name);
    if (!roles) {
        snprintf (reply->text, sizeof reply->text, "key not allowed");
        return;
    }
    snprintf (reply->status, sizeof reply->status, "200");
    snprintf (reply->text, sizeof reply->text, "OK");
    size_t len = 0;
    for (size_t k = 0; k < S_N_ROLES; k++)
        if (roles & s_roles[k].role)
            len += (size_t)snprintf (reply->user_id + len,
                                     sizeof reply->user_id - len, "%s%s",
                                     len ? "," : "", s_roles[k].dir);
    snprintf (reply->user_id + len, sizeof reply->user_id - len, ":%s", name);
}

struct _hpo_keys_zap_t {
    zactor_t *actor;
    void *ctx;
    hpo_keys_dir_t *dir; //  the actor's, until it ends
    char *error;         //  why the actor could not start
    hpo_log_limit_t refused;
};

#define S_ZAP_FRAMES 8

//  Reads one ZAP request (RFC 27: version, request id, domain, address,
//  identity, mechanism, credentials...) and answers it.
static void
s_zap_serve (hpo_keys_zap_t *self, void *handler)
{
    zmq_msg_t frames[S_ZAP_FRAMES];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handler, 0) < 0) {
            zmq_msg_close (&part);
            break;
        }
        more = zmq_msg_more (&part);
        if (n < S_ZAP_FRAMES)
            frames[n++] = part;
        else
            zmq_msg_close (&part);
    }
    hpo_keys_zap_reply_t reply;
    char mechanism[16] = "", address[64] = "";
    if (n >= 6) {
        snprintf (mechanism, sizeof mechanism, "%.*s",
                  (int)zmq_msg_size (&frames[5]),
                  (char *)zmq_msg_data (&frames[5]));
        snprintf (address, sizeof address, "%.*s",
                  (int)zmq_msg_size (&frames[3]),
                  (char *)zmq_msg_data (&frames[3]));
    }
    const uint8_t *cred = n >= 7 ? zmq_msg_data (&frames[6]) : NULL;
    size_t cred_size = n >= 7 ? zmq_msg_size (&frames[6]) : 0;
    hpo_keys_zap_decide (self->dir, mechanism, cred, cred_size, &reply);
    if (strcmp (reply.status, "200") != 0 &&
        hpo_log_limit (&self->refused, hpo_clock_mono_ms (), 1000)) {
        char z85[HPO_KEYS_BYTES * 5 / 4 + 1] = "none";
        if (cred_size == HPO_KEYS_BYTES)
            zmq_z85_encode (z85, cred, HPO_KEYS_BYTES);
        hpo_log_warnx ("refused a connection from %s: key %s is not in the "
                       "allow directory (%" PRIu64 " refused so far)",
                       *address ? address : "?", z85, self->refused.count);
    }
    //  The reply: version, request id, status code and text, User-Id,
    //  metadata (none).
    const char *version = "1.0";
    zmq_send (handler, version, 3, ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send (handler, zmq_msg_data (&frames[1]), zmq_msg_size (&frames[1]),
                  ZMQ_SNDMORE);
    else
        zmq_send (handler, "", 0, ZMQ_SNDMORE);
    zmq_send (handler, reply.status, 3, ZMQ_SNDMORE);
    zmq_send (handler, reply.text, strlen (reply.text), ZMQ_SNDMORE);
    zmq_send (handler, reply.user_id, strlen (reply.user_id), ZMQ_SNDMORE);
    zmq_send (handler, "", 0, 0);
    for (int k = 0; k < n; k++)
        zmq_msg_close (&frames[k]);
}

//  The actor: binds the ZAP endpoint on the coordinator's context,
//  reads the directory, then serves requests and looks at the directory
//  once a second until told to stop.
static void
s_zap_actor (zsock_t *pipe, void *arg)
{
    hpo_keys_zap_t *self = arg;
    void *handler = zmq_socket (self->ctx, ZMQ_REP);
    int linger = 0;
    if (handler)
        zmq_setsockopt (handler, ZMQ_LINGER, &linger, sizeof linger);
    if (!handler || zmq_bind (handler, "inproc://zeromq.zap.01") != 0) {
        self->error = hpo_sprintf ("cannot start the key check: %s",
                                   zmq_strerror (errno));
        if (handler)
            zmq_close (handler);
        zsock_signal (pipe, 1);
        return;
    }
    hpo_keys_dir_scan (self->dir);
    hpo_log_info ("allow directory %s: %zu keys", self->dir->dir,
                  hpo_keys_dir_size (self->dir));
    zsock_signal (pipe, 0);
    int64_t next_scan = hpo_clock_mono_ms () + S_SCAN_MS;
    while (1) {
        zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                   {handler, 0, ZMQ_POLLIN, 0}};
        int64_t now = hpo_clock_mono_ms ();
        long wait = next_scan > now ? (long)(next_scan - now) : 0;
        if (zmq_poll (items, 2, wait) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            int term = !command || strcmp (command, "$TERM") == 0;
            zstr_free (&command);
            if (term)
                break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_zap_serve (self, handler);
        if (hpo_clock_mono_ms () >= next_scan) {
            size_t before = hpo_keys_dir_size (self->dir);
            if (hpo_keys_dir_scan (self->dir))
                hpo_log (before == hpo_keys_dir_size (self->dir) ? HPO_LOG_DEBUG
                                                                 : HPO_LOG_INFO,
                         "allow directory %s: %zu keys", self->dir->dir,
                         hpo_keys_dir_size (self->dir));
            next_scan = hpo_clock_mono_ms () + S_SCAN_MS;
        }
    }
    zmq_close (handler);
}

hpo_keys_zap_t *
hpo_keys_zap_new (void *ctx, const char *dir, char **error)
{
    assert (ctx && dir && error);
    hpo_keys_zap_t *self = hpo_calloc (1, sizeof *self);
    self->ctx = ctx;
    self->dir = hpo_keys_dir_new (dir, error);
    if (!self->dir) {
        free (self);
        return NULL;
    }
    //  czmq must not take SIGINT and SIGTERM from the daemon's own
    //  handlers when the actor starts it.
    zsys_handler_set (NULL);
    self->actor = zactor_new (s_zap_actor, self);
    if (!self->actor || self->error) {
        *error = self->error ? self->error
                             : hpo_strdup ("cannot start the key check");
        self->error = NULL;
        hpo_keys_zap_destroy (&self);
        return NULL;
    }
    return self;
}

void
hpo_keys_zap_destroy (hpo_keys_zap_t **self_p)
{
    hpo_keys_zap_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    hpo_keys_dir_destroy (&self->dir);
    free (self->error);
    free (self);
    *self_p = NULL;
}
