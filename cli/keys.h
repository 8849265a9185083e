/*  keys.h (cli): which CURVE keys the hpo command uses. In order, the
    first that names a secret key wins:

        --curve-secret FILE --server-key FILE    (global options)
        $HPO_CURVE_SECRET and $HPO_SERVER_KEY
        CONFIG/client.key_secret and CONFIG/server.key, where CONFIG is
        $XDG_CONFIG_HOME/hpo if XDG_CONFIG_HOME is set, else ~/.config/hpo

    A secret without the coordinator's public key (or the other way
    round) is an error, not a connection without keys.                   */
#ifndef HPO_CLI_KEYS_H
#define HPO_CLI_KEYS_H

#include "../common/keys.h"

//  Fills keys from the first source above that has any. Returns 1 (keys
//  on), 0 (no source has any: no keys), or -1 after logging what is
//  wrong.
int hpo_cli_keys (const char *secret, const char *server, hpo_keys_t *keys);

#endif
