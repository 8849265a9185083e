/*  slurm.h (cli): what hpo slurm launch needs from Slurm and the shared
    file system: the batch scripts, the shared directory and its address
    file, sbatch and squeue run without a shell.

    The shared directory (HPO_SLURM_DIR, default ~/.hpo/slurm) is where
    deploy/slurm/hpo-coordinator.sbatch writes coordinator.address, one
    line "tcp://NODE:PORT", while its coordinator runs.                  */
#ifndef HPO_CLI_SLURM_H
#define HPO_CLI_SLURM_H

#include <stddef.h>

//  The directory holding hpo-coordinator.sbatch and hpo-workers.sbatch:
//  $HPO_SLURM_SCRIPTS, else DIR/../share/hpo/slurm (installed) or
//  DIR/../deploy/slurm (a build directory in the source tree), DIR being
//  this program's. Returns a new string, or NULL after logging.
char *hpo_slurm_scripts (void);

//  The shared directory, absolute: given if not NULL, else
//  $HPO_SLURM_DIR, else ~/.hpo/slurm (made if missing; one given must
//  exist). Returns a new string, or NULL after logging.
char *hpo_slurm_dir (const char *given);

//  The endpoint in DIR/coordinator.address, a new string; NULL if there
//  is none (no file, or an empty one).
char *hpo_slurm_address (const char *dir);

//  Runs sbatch --parsable OPTS... SCRIPT with the environment plus env
//  (n_env "NAME=VALUE" strings, replacing variables of the same names).
//  Returns 0 with the job id in job (size bytes), or -1 after logging.
int hpo_slurm_sbatch (const char *script, char **opts, int n_opts, char **env,
                      int n_env, char *job, size_t size);

//  Whether Slurm still lists job (pending, running, ending): 1 yes, 0 no,
//  -1 squeue failed (logged).
int hpo_slurm_listed (const char *job);

#endif
