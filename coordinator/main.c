/*  hpo-coordinator: owns every study in SQLite and leases trials to
    workers over ZeroMQ.                                                  */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../common/keys.h"
#include "../common/log.h"
#include "../dash/http.h"
#include "../dash/model.h"
#include "feed.h"
#include "server.h"
#include "store.h"

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal (int sig)
{
    s_stop = 1;
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: hpo-coordinator --db FILE [options]\n"
        "\n"
        "Owns every study in the SQLite database FILE (created on first\n"
        "start, reopened with nothing lost on restart) and hands trials to\n"
        "hpo-worker daemons over ZeroMQ.\n"
        "\n"
        "Options:\n"
        "  --db FILE          the database (required)\n"
        "  --listen ENDPOINT  where workers and clients connect\n"
        "                     (default tcp://*:5555 with keys, else\n"
        "                     tcp://127.0.0.1:5555)\n"
        "  --heartbeat-ms N   how often workers heartbeat (default 1000)\n"
        "  --lease-ms N       a trial whose worker is silent this long is\n"
        "                     given to another worker (default 10000)\n"
        "  --sync MODE        full (default): every acknowledged change is\n"
        "                     fsynced; normal: a power cut can lose the last\n"
        "                     commits (a crash of the process cannot);\n"
        "                     off: never fsynced, for benchmarks: a crash\n"
        "                     of the machine can lose acknowledged results\n"
        "  --endpoint-file F  write the bound endpoint to F once listening\n"
        "                     (useful with tcp://127.0.0.1:*)\n"
        "  --log-level LEVEL  debug, info (default), warn or error\n"
        "  -h, --help         this text\n"
        "\n"
        "Keys (CURVE; README, Security):\n"
        "  --curve-secret F   the coordinator's secret key (hpo keygen\n"
        "                     server writes server.key_secret); give\n"
        "                     workers and clients server.key\n"
        "  --allow DIR        admit only the public keys in DIR/worker/\n"
        "                     (workers), DIR/client/ (studies, trials,\n"
        "                     reads), DIR/admin/ (also study delete and\n"
        "                     hpo admin backup); looked at every second,\n"
        "                     a key added or removed counts from the\n"
        "                     next connection\n"
        "  --insecure         listen beyond loopback without keys: anyone\n"
        "                     who reaches the port can run commands on\n"
        "                     every worker. Without keys and without this,\n"
        "                     only 127.0.0.0/8, ::1, localhost, ipc:// and\n"
        "                     inproc:// endpoints are accepted\n"
        "\n"
        "Backup:\n"
        "  --backup-to FILE   copy the database (--db) to FILE and exit,\n"
        "                     for a coordinator that is not running; a\n"
        "                     running one is asked through its socket:\n"
        "                     hpo admin backup FILE\n"
        "\n"
        "Dashboard (README, Dashboard):\n"
        "  --http ADDR:PORT   serve the read-only web dashboard there; PORT\n"
        "                     alone listens on 127.0.0.1, 0.0.0.0:PORT on\n"
        "                     every address, port 0 where the kernel picks\n"
        "                     (the log says where: dashboard on http://...)\n"
        "                     (default: $HPO_HTTP, else no dashboard)\n"
        "  --http-token-file F  the token every request must carry is F's\n"
        "                     first line; required with --http; keep F\n"
        "                     private (chmod 600) (default:\n"
        "                     $HPO_HTTP_TOKEN_FILE)\n");
}

//  Every worker and client is a TCP connection: allow as many as the
//  hard limit lets us, not the soft default of 1024.
static void
s_raise_nofile (void)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
            hpo_log_warn ("cannot raise the open-file limit");
    }
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096)
        hpo_log_warnx (
            "the open-file limit is %llu: at most about %llu "
            "workers and clients can connect at once; raise it "
            "(ulimit -Hn, or LimitNOFILE= in the systemd unit)",
            (unsigned long long)rl.rlim_cur,
            (unsigned long long)(rl.rlim_cur > 32 ? rl.rlim_cur - 32 : 0));
}

//  Writes endpoint to path, through a temporary name and a rename so a
//  reader never sees half of it. Returns 0, or -1 after logging why.
static int
s_write_endpoint (const char *path, const char *endpoint)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen (tmp, "w");
    if (!f || fprintf (f, "%s\n", endpoint) < 0 || fclose (f) != 0 ||
        rename (tmp, path) != 0) {
        hpo_log_warn ("cannot write %s", path);
        return -1;
    }
    return 0;
}

//  Who may connect: keys on (both options), or an endpoint only this host
//  reaches, or --insecure said out loud. Returns 0, or 2 (usage) after
//  saying why not.
static int
s_check_open (const hpo_server_config_t *cfg, int insecure)
{
    if (!cfg->curve_secret != !cfg->allow_dir) {
        fprintf (stderr, "hpo-coordinator: --curve-secret and --allow go "
                         "together\n");
        return 2;
    }
    if (cfg->curve_secret || hpo_keys_endpoint_local (cfg->listen))
        return 0;
    if (!insecure) {
        fprintf (stderr,
                 "hpo-coordinator: refusing to listen on %s without keys: "
                 "anyone who reaches it could run commands on every "
                 "worker. Give --curve-secret and --allow (hpo keygen; "
                 "README, Security), listen on 127.0.0.1, or say "
                 "--insecure\n",
                 cfg->listen);
        return 2;
    }
    hpo_log_warnx ("INSECURE: listening on %s without keys: anyone who "
                   "reaches this port can submit studies, and so run any "
                   "command on every worker",
                   cfg->listen);
    return 0;
}

//  The dashboard, when --http is given: its thread and its tap.
typedef struct {
    hpo_http_t *http;
    hpo_feed_t *feed;
} s_dash_t;

static void
s_on_workers (void *arg, const void *envelope, size_t size)
{
    hpo_feed_workers (arg, envelope, size);
}

//  Loads what the store holds into the dashboard's read model before the
//  loop runs, starts serving it, and taps the store for what the loop
//  writes from then on. Returns 0, or -1 after logging why not.
static int
s_dash_start (hpo_server_t *server, const hpo_http_config_t *cfg,
              s_dash_t *dash)
{
    hpo_store_t *store = hpo_server_store (server);
    hpo_batch_t *snapshot = hpo_feed_snapshot (store);
    if (!snapshot)
        return -1;
    hpo_model_t *model = hpo_model_new ();
    //  Loaded whole, not news: a page fetches it, no event says it.
    hpo_model_quiet (model, 1);
    hpo_model_apply (model, snapshot);
    hpo_model_quiet (model, 0);
    hpo_batch_destroy (&snapshot);
    char *error = NULL;
    dash->http = hpo_http_new (cfg, &model, &error);
    if (!dash->http) {
        hpo_log_error ("%s", error);
        free (error);
        return -1;
    }
    dash->feed = hpo_feed_new (store, dash->http);
    hpo_server_publish_workers (server, s_on_workers, dash->feed);
    hpo_log_info ("dashboard on %s", hpo_http_url (dash->http));
    return 0;
}

//  Everything after the options: signals, limits, the server's life.
static int
s_run (const hpo_server_config_t *cfg, const char *endpoint_file,
       const hpo_http_config_t *http)
{
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    s_raise_nofile ();
    char *error = NULL;
    hpo_server_t *server = hpo_server_new (cfg, &error);
    if (!server) {
        hpo_log_error ("%s", error);
        free (error);
        return 1;
    }
    hpo_log_info ("listening on %s, database %s (heartbeat %ld ms, lease "
                  "%ld ms, sync %s)",
                  hpo_server_endpoint (server), cfg->db_path,
                  (long)cfg->heartbeat_ms, (long)cfg->lease_ms,
                  cfg->sync == HPO_SYNC_FULL     ? "full"
                  : cfg->sync == HPO_SYNC_NORMAL ? "normal"
                                                 : "off");
    s_dash_t dash = {NULL, NULL};
    if ((http->listen && s_dash_start (server, http, &dash)) ||
        (endpoint_file &&
         s_write_endpoint (endpoint_file, hpo_server_endpoint (server)))) {
        hpo_feed_destroy (&dash.feed);
        hpo_server_destroy (&server);
        hpo_http_destroy (&dash.http);
        return 1;
    }
    int rc = hpo_server_run (server, &s_stop);
    hpo_feed_destroy (&dash.feed);
    hpo_server_destroy (&server);
    hpo_http_destroy (&dash.http);
    hpo_log_info (rc == 0 ? "stopped" : "stopped on a store failure");
    return rc == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
    hpo_server_config_t cfg = {
        .listen = NULL, //  chosen after the options
        .heartbeat_ms = 1000,
        .lease_ms = 10000,
        .sync = HPO_SYNC_FULL,
    };
    const char *endpoint_file = NULL;
    const char *backup_to = NULL;
    hpo_http_config_t http = {getenv ("HPO_HTTP"),
                              getenv ("HPO_HTTP_TOKEN_FILE")};
    int insecure = 0;
    int level = HPO_LOG_INFO;
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"heartbeat-ms", required_argument, NULL, 'b'},
        {"lease-ms", required_argument, NULL, 'L'},
        {"sync", required_argument, NULL, 's'},
        {"endpoint-file", required_argument, NULL, 'e'},
        {"log-level", required_argument, NULL, 'v'},
        {"curve-secret", required_argument, NULL, 'K'},
        {"allow", required_argument, NULL, 'A'},
        {"insecure", no_argument, NULL, 'I'},
        {"backup-to", required_argument, NULL, 'B'},
        {"http", required_argument, NULL, 'H'},
        {"http-token-file", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hpo_log_init ("hpo-coordinator", HPO_LOG_INFO);
    int c;
    char *end;
    while ((c = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            cfg.db_path = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 'b':
        case 'L': {
            long v = strtol (optarg, &end, 10);
            if (*end || v < 10 || v > 3600000) {
                fprintf (stderr,
                         "hpo-coordinator: --%s: expected "
                         "milliseconds between 10 and 3600000, got "
                         "'%s'\n",
                         c == 'b' ? "heartbeat-ms" : "lease-ms", optarg);
                return 2;
            }
            if (c == 'b')
                cfg.heartbeat_ms = v;
            else
                cfg.lease_ms = v;
            break;
        }
        case 's':
            if (strcmp (optarg, "full") == 0)
                cfg.sync = HPO_SYNC_FULL;
            else if (strcmp (optarg, "normal") == 0)
                cfg.sync = HPO_SYNC_NORMAL;
            else if (strcmp (optarg, "off") == 0)
                cfg.sync = HPO_SYNC_OFF;
            else {
                fprintf (stderr,
                         "hpo-coordinator: --sync: expected full, "
                         "normal or off, got '%s'\n",
                         optarg);
                return 2;
            }
            break;
        case 'e':
            endpoint_file = optarg;
            break;
        case 'v':
            level = hpo_log_level_parse (optarg);
            if (level < 0) {
                fprintf (stderr, "hpo-coordinator: --log-level: expected "
                                 "debug, info, warn or error\n");
                return 2;
            }
            break;
        case 'K':
            cfg.curve_secret = optarg;
            break;
        case 'A':
            cfg.allow_dir = optarg;
            break;
        case 'I':
            insecure = 1;
            break;
        case 'B':
            backup_to = optarg;
            break;
        case 'H':
            http.listen = optarg;
            break;
        case 'T':
            http.token_file = optarg;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc || !cfg.db_path) {
        fprintf (stderr, "hpo-coordinator: %s\n",
                 optind < argc ? "unexpected argument" : "--db is required");
        s_usage (stderr);
        return 2;
    }
    if (cfg.lease_ms <= cfg.heartbeat_ms) {
        fprintf (stderr, "hpo-coordinator: --lease-ms must be longer than "
                         "--heartbeat-ms\n");
        return 2;
    }
    hpo_log_init ("hpo-coordinator", level);
    if (backup_to) {
        char *error = NULL;
        if (hpo_store_backup_file (cfg.db_path, backup_to, &error)) {
            hpo_log_error ("%s", error);
            free (error);
            return 1;
        }
        hpo_log_info ("copied %s to %s", cfg.db_path, backup_to);
        return 0;
    }
    //  Open to the network by default only when keys say who may come.
    if (!cfg.listen)
        cfg.listen = cfg.curve_secret ? "tcp://*:5555" : "tcp://127.0.0.1:5555";
    int rc = s_check_open (&cfg, insecure);
    if (rc)
        return rc;
    if (http.listen && *http.listen && (!http.token_file || !*http.token_file)) {
        fprintf (stderr, "hpo-coordinator: --http needs --http-token-file: "
                         "every request must carry the token it holds\n");
        return 2;
    }
    if (http.listen && !*http.listen)
        http.listen = NULL; //  HPO_HTTP= set empty: no dashboard
    return s_run (&cfg, endpoint_file, &http);
}
