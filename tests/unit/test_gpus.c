/*  test_gpus: --gpus lists, nvidia-smi -L's output, CUDA_VISIBLE_DEVICES
    and which slot holds which GPU on the worker (issue #11).             */
#include <stdlib.h>

#include "../../common/mem.h"
#include "../../worker/gpus.h"
#include "testutil.h"

static void
s_test_list (void)
{
    hpo_gpu_t *gpus;
    size_t n;
    char *error;
    CHECK (hpo_gpus_parse_list ("0,1,2,3", &gpus, &n, &error) == 0);
    CHECK (n == 4 && gpus[0].index == 0 && gpus[3].index == 3);
    CHECK (gpus[0].name == NULL && gpus[0].uuid == NULL);
    hpo_gpus_free (gpus, n);
    CHECK (hpo_gpus_parse_list ("7", &gpus, &n, &error) == 0);
    CHECK (n == 1 && gpus[0].index == 7);
    hpo_gpus_free (gpus, n);
    const char *bad[] = {"", ",", "0,", ",1", "0,,1", "a", "1a", "-1",
                         "0 1", "4096", "99999999999999999999", "0;1"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK (hpo_gpus_parse_list (bad[k], &gpus, &n, &error) == -1);
        CHECK (gpus == NULL && n == 0 && error != NULL);
        if (error && k == 0)
            CHECK_STR (error, "'' is not a list of GPU indices (0-4095) "
                              "such as 0,1,2, or auto");
        free (error);
    }
    CHECK (hpo_gpus_parse_list ("0,1,0", &gpus, &n, &error) == -1);
    CHECK_STR (error, "GPU 0 is listed twice");
    free (error);
}

static void
s_test_smi (void)
{
    const char *out =
        "GPU 0: NVIDIA H200 (UUID: GPU-3b1e0c6a-1111-2222-3333-444455556666)\n"
        "GPU 1: Tesla V100-SXM2-16GB (UUID: GPU-aaaa)\n"
        "  MIG 1g.10gb     Device  0: (UUID: MIG-bbbb)\n"
        "GPU 3: A (weird) name (UUID: GPU-cccc)\n"
        "GPU 1: a second GPU 1 is ignored (UUID: GPU-dddd)\n"
        "No devices were found\n"
        "GPU x: not an index\n"
        "GPU 5: no uuid";
    hpo_gpu_t *gpus;
    size_t n = hpo_gpus_parse_smi (out, &gpus);
    CHECK (n == 4);
    if (n == 4) {
        CHECK (gpus[0].index == 0);
        CHECK_STR (gpus[0].name, "NVIDIA H200");
        CHECK_STR (gpus[0].uuid, "GPU-3b1e0c6a-1111-2222-3333-444455556666");
        CHECK (gpus[1].index == 1);
        CHECK_STR (gpus[1].name, "Tesla V100-SXM2-16GB");
        CHECK (gpus[2].index == 3);
        CHECK_STR (gpus[2].name, "A (weird) name");
        CHECK_STR (gpus[2].uuid, "GPU-cccc");
        CHECK (gpus[3].index == 5 && gpus[3].uuid == NULL);
        CHECK_STR (gpus[3].name, "no uuid");
    }
    //  Under a batch system's allocation, only its GPUs.
    n = hpo_gpus_filter (gpus, n, "3,0");
    CHECK (n == 2 && gpus[0].index == 0 && gpus[1].index == 3);
    //  UUIDs, or nothing, keep them all.
    CHECK (hpo_gpus_filter (gpus, n, "GPU-cccc") == 2);
    CHECK (hpo_gpus_filter (gpus, n, "") == 2);
    CHECK (hpo_gpus_filter (gpus, n, NULL) == 2);
    hpo_gpus_free (gpus, n);
    CHECK (hpo_gpus_parse_smi ("", &gpus) == 0 && gpus == NULL);
    CHECK (hpo_gpus_parse_smi ("No devices were found\n", &gpus) == 0);
}

static void
s_test_set (void)
{
    hpo_gpu_t *gpus;
    size_t n;
    char *error;
    CHECK (hpo_gpus_parse_list ("0,1,2", &gpus, &n, &error) == 0);
    hpo_gpu_set_t *set = hpo_gpu_set_new (&gpus, n);
    CHECK (gpus == NULL && hpo_gpu_set_size (set) == 3);
    CHECK (hpo_gpu_set_wire (set)[2]->index == 2);
    uint32_t a[] = {0, 2}, b[] = {2}, c[] = {5}, d[] = {1, 1}, busy[3];
    CHECK (hpo_gpu_set_check (set, a, 2) == NULL);
    hpo_gpu_set_hold (set, 0, a, 2);
    char *why = hpo_gpu_set_check (set, b, 1);
    CHECK_STR (why, "GPU 2 is still held by the process group in slot 0");
    free (why);
    why = hpo_gpu_set_check (set, c, 1);
    CHECK_STR (why, "GPU 5 is not one of this worker's");
    free (why);
    why = hpo_gpu_set_check (set, d, 2);
    CHECK_STR (why, "GPU 1 is named twice");
    free (why);
    CHECK (hpo_gpu_set_busy (set, UINT32_MAX, busy) == 2);
    CHECK (busy[0] == 0 && busy[1] == 2);
    CHECK (hpo_gpu_set_busy (set, 0, busy) == 0);
    hpo_gpu_set_release (set, 0);
    CHECK (hpo_gpu_set_busy (set, UINT32_MAX, busy) == 0);
    CHECK (hpo_gpu_set_check (set, b, 1) == NULL);
    hpo_gpu_set_destroy (&set);
    hpo_gpu_set_destroy (&set);
    CHECK (set == NULL);
    //  A worker without GPUs.
    gpus = NULL;
    set = hpo_gpu_set_new (&gpus, 0);
    CHECK (hpo_gpu_set_size (set) == 0 && hpo_gpu_set_check (set, a, 0) == 0);
    why = hpo_gpu_set_check (set, a, 1);
    CHECK_STR (why, "GPU 0 is not one of this worker's");
    free (why);
    hpo_gpu_set_destroy (&set);
}

int
main (void)
{
    s_test_list ();
    s_test_smi ();
    s_test_set ();
    TEST_DONE ();
}
