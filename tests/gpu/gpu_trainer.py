"""A training program that holds GPU memory the way real ones do, and
escapes its process group the way careless ones do: it starts a data
loader child in a session of its own (setsid) that also holds GPU memory,
and optionally ignores SIGTERM. Both record their pids so the check can
tell whether anything of the trial outlived its worker.

Usage: gpu_trainer.py --mib N [--ignore-term] --seconds S"""
import argparse
import os
import signal
import subprocess
import sys
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--mib", type=int, default=1024)
ap.add_argument("--ignore-term", action="store_true")
ap.add_argument("--seconds", type=float, default=120)
ap.add_argument("--child", action="store_true")
ap.add_argument("--x", type=float, default=0)  # the searched parameter, unused
a = ap.parse_args()

if a.ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
held = torch.empty(a.mib * 1024 * 1024, dtype=torch.uint8, device="cuda")
held.fill_(1)
torch.cuda.synchronize()
piddir = os.environ.get("HPO_GPU_PIDS", "/tmp")
with open(os.path.join(piddir, "pid-%d" % os.getpid()), "w") as f:
    f.write("child\n" if a.child else "main\n")
if a.child:
    time.sleep(a.seconds)
    sys.exit(0)

# The escaped loader: its own session, so a kill of the program's process
# group does not reach it.
subprocess.Popen([sys.executable, __file__, "--child", "--mib", str(a.mib),
                  "--seconds", str(a.seconds)] +
                 (["--ignore-term"] if a.ignore_term else []),
                 start_new_session=True)
fd = int(os.environ.get("HPO_REPORT_FD", "1"))
out = os.fdopen(fd, "w", buffering=1)
start = time.time()
step = 0
while time.time() - start < a.seconds:
    step += 1
    out.write("step=%d loss=%f\n" % (step, float(held[:1024].float().sum())))
    time.sleep(0.2)
out.write("loss=0.5\n")
