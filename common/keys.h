/*  keys.h: CURVE keys and who may connect (issue #13).

    Key pairs are czmq certificates (zcert): NAME.key holds the public
    key, NAME.key_secret (mode 0600) both. A process's own pair is read
    from its secret file; the coordinator's public key from its .key file.

    The coordinator admits only the public keys it finds in an allow
    directory, each with the roles of the subdirectories that hold it:

        DIR/worker/NAME.key   may run trials (Hello, Heartbeat, Report,
                              Finish, Goodbye) and nothing else
        DIR/client/NAME.key   may create, change and read studies
        DIR/admin/NAME.key    a client that may also delete studies and
                              send admin commands (backup)

    The check runs in a ZAP handler (ZeroMQ RFC 27), an actor thread on
    the coordinator's context that answers every handshake at once, never
    waiting for the coordinator's loop. It names each admitted connection
    in its User-Id, "ROLES:NAME" (roles comma-separated, as
    hpo_keys_user_parse reads them back), which ZeroMQ hands the loop with
    every message of that connection. It looks at the directory's three
    subdirectories once a second (their modification times) and reloads
    them when one changed: a key added or removed takes effect from the
    next connection; connections already made keep theirs.               */
#ifndef HPO_KEYS_H
#define HPO_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define HPO_KEYS_BYTES 32 //  a CURVE key, binary

//  Roles, a bit each: one key may be in several subdirectories.
enum {
    HPO_KEYS_WORKER = 1,
    HPO_KEYS_CLIENT = 2,
    HPO_KEYS_ADMIN = 4,
};

//  A process's keys for its socket (sock.h): its own pair and, for a
//  worker or a client, the coordinator's public key.
typedef struct {
    uint8_t public_key[HPO_KEYS_BYTES];
    uint8_t secret_key[HPO_KEYS_BYTES];
    uint8_t server_key[HPO_KEYS_BYTES];
    int has_server_key;
} hpo_keys_t;

//  Writes DIR/NAME.key and DIR/NAME.key_secret (mode 0600) for a new key
//  pair; dir NULL is the current directory. Refuses when either file
//  exists unless force. NAME is 1-64 of [A-Za-z0-9._-], not starting
//  with '.'. Returns 0, or -1 with *error set (caller frees).
int hpo_keys_generate (const char *dir, const char *name, int force,
                       char **error);

//  Reads this process's pair from a secret file (NAME.key_secret) into
//  keys. Returns 0, or -1 with *error set naming the file.
int hpo_keys_load_secret (hpo_keys_t *keys, const char *path, char **error);
//  Reads the coordinator's public key (its NAME.key) into keys.
int hpo_keys_load_server (hpo_keys_t *keys, const char *path, char **error);

//  Both of the above: a worker's or client's keys. Returns 0, or -1 with
//  *error set.
int hpo_keys_load (hpo_keys_t *keys, const char *secret, const char *server,
                   char **error);

//  Whether an endpoint can be reached only from this host: ipc://,
//  inproc://, or tcp:// on 127.0.0.0/8, ::1 or localhost. Anything else
//  (tcp://*, 0.0.0.0, a host name, an interface) is reachable from the
//  network.
int hpo_keys_endpoint_local (const char *endpoint);

//  Reads a User-Id the ZAP handler gave ("ROLES:NAME"): the roles as
//  HPO_KEYS_* bits (0 for "" or anything else), and the key's name into
//  name (size bytes, "" if none).
unsigned hpo_keys_user_parse (const char *user_id, char *name, size_t size);

//  ---- the allow directory -----------------------------------------------

typedef struct _hpo_keys_dir_t hpo_keys_dir_t;

//  An allow directory, not yet read. dir must exist.
hpo_keys_dir_t *hpo_keys_dir_new (const char *dir, char **error);
void hpo_keys_dir_destroy (hpo_keys_dir_t **self_p);
//  Reads the subdirectories again if any of them changed since the last
//  read (or on the first call). Returns 1 when it read them, 0 when
//  nothing changed. A file that is not a key is skipped with a warning.
int hpo_keys_dir_scan (hpo_keys_dir_t *self);
//  The roles of a public key (0: not allowed), and its name into name.
unsigned hpo_keys_dir_lookup (hpo_keys_dir_t *self,
                              const uint8_t key[HPO_KEYS_BYTES], char *name,
                              size_t size);
//  How many keys were found at the last read.
size_t hpo_keys_dir_size (hpo_keys_dir_t *self);

//  ---- the ZAP handler -----------------------------------------------------

typedef struct _hpo_keys_zap_t hpo_keys_zap_t;

//  Starts the ZAP handler on the ZeroMQ context ctx (the one the server
//  socket will be opened on, before it is), admitting the keys of dir.
//  Returns once the directory was read and the handler listens, or NULL
//  with *error set.
hpo_keys_zap_t *hpo_keys_zap_new (void *ctx, const char *dir, char **error);
//  Stops the handler (before the context is terminated).
void hpo_keys_zap_destroy (hpo_keys_zap_t **self_p);

//  The ZAP decision for one request's frames, for tests and the handler:
//  fills the reply's status code ("200", "400") and User-Id.
typedef struct {
    char status[4];
    char text[64];
    char user_id[256];
} hpo_keys_zap_reply_t;
void hpo_keys_zap_decide (hpo_keys_dir_t *dir, const char *mechanism,
                          const uint8_t *credentials, size_t size,
                          hpo_keys_zap_reply_t *reply);

#endif
