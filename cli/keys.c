/*  keys.c (cli): finding the CURVE keys hpo uses (cli/keys.h).          */
#include "keys.h"

#include <stdlib.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/mem.h"

//  CONFIG/NAME if that file exists, else NULL (caller frees).
static char *
s_config_file (const char *name)
{
    const char *xdg = getenv ("XDG_CONFIG_HOME");
    const char *home = getenv ("HOME");
    char *path = xdg && *xdg     ? hpo_sprintf ("%s/hpo/%s", xdg, name)
                 : home && *home ? hpo_sprintf ("%s/.config/hpo/%s", home, name)
                                 : NULL;
    if (path && access (path, F_OK) != 0) {
        free (path);
        path = NULL;
    }
    return path;
}

int
hpo_cli_keys (const char *secret, const char *server, hpo_keys_t *keys)
{
    char *secret_buf = NULL, *server_buf = NULL;
    const char *from = "--curve-secret and --server-key";
    if (!secret && !server) {
        secret = getenv ("HPO_CURVE_SECRET");
        server = getenv ("HPO_SERVER_KEY");
        from = "HPO_CURVE_SECRET and HPO_SERVER_KEY";
        if (!(secret && *secret) && !(server && *server)) {
            secret = secret_buf = s_config_file ("client.key_secret");
            server = server_buf = s_config_file ("server.key");
            from = "~/.config/hpo/client.key_secret and server.key";
        }
    }
    int has_secret = secret && *secret, has_server = server && *server;
    int rc = 0;
    char *error = NULL;
    if (has_secret != has_server) {
        hpo_log_error ("%s go together: only one was found", from);
        rc = -1;
    } else if (has_secret) {
        rc = hpo_keys_load (keys, secret, server, &error) ? -1 : 1;
        if (rc < 0)
            hpo_log_error ("%s", error);
    }
    free (error);
    free (secret_buf);
    free (server_buf);
    return rc;
}
