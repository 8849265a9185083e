"""Hosts on a real network: the coordinator and two workers each live in a
network namespace of their own, with their own address, joined by a
bridge. What they say to each other crosses (virtual) Ethernet and TCP,
not loopback, so partitions and unplugged cables can be made with
iptables and link state inside the namespaces. The root namespace's
networking is never touched.

    ns ...-co  10.213.7.1   eth0 --- p-co -+
    ns ...-w1  10.213.7.11  eth0 --- p-w1 -+- br0   (in ns ...-br)
    ns ...-w2  10.213.7.12  eth0 --- p-w2 -+

Every test builds its own topology, with namespaces named
hpont-<pid>-<n>-<host>, and removes it in tearDown (and at exit, and on
SIGTERM/SIGINT). Leftovers of aborted runs (a name whose pid is dead) are
removed at start. Needs root, ip (iproute2) and iptables; without them
every test is skipped and the reason is printed.

The invariants (README, "Leases, retries, fencing"): a silent worker's
lease runs out and its trial runs elsewhere as the next attempt; when the
worker is heard from again, its stale attempt is refused and killed, and
never counts; the budget is exact.
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest

from harness import run_or_skip, Cluster, alive, study_yaml, wait_for

PREFIX = "hpont"
SUBNET = "10.213.7"
ADDR = {"co": SUBNET + ".1", "w1": SUBNET + ".11", "w2": SUBNET + ".12"}
HOSTS = ("co", "w1", "w2")

HEARTBEAT_MS = 200
LEASE_MS = 1500
# Long trials: attempt 1 must still be running when its worker hears that
# it is stale, so "killed, never ended" can be told from "ended anyway".
STEPS, STEP_S = 40, 0.5
# How long a fault is held: past both ends' ZMTP heartbeat timeouts (the
# worker's 3 s, the coordinator's 6 s), so the old TCP connections are
# given up and the worker has to reconnect through the healed network.
HOLD_S = 7.0
# After the heal: a reconnect, Hello (or a heartbeat), the refusal and
# SIGTERM. A dropped SYN is retried by the kernel at 1, 3, 7 s..., so a
# worker may need several seconds to get through once the path is back.
KILL_BOUND_S = 20.0


def _tool(name):
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    for d in dirs + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]:
        p = os.path.join(d, name)
        if d and os.access(p, os.X_OK):
            return p
    return None


IP = _tool("ip")
IPTABLES = _tool("iptables")


def _run(args, timeout=15):
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _sh(*args):
    r = _run(list(args))
    if r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


# ---- namespaces ----------------------------------------------------------

def _ns_pids(ns):
    r = _run([IP, "netns", "pids", ns])
    if r.returncode != 0:
        return []
    return [int(p) for p in r.stdout.split() if p.isdigit()]


def _remove_ns(ns):
    """Kills what runs in ns (deleting a namespace kills nothing), then
    deletes it. Bounded: about 5 s of retries."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = [p for p in _ns_pids(ns) if p != os.getpid()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    _run([IP, "netns", "del", ns])


def _our_namespaces():
    r = _run([IP, "netns", "list"])
    names = [line.split()[0] for line in r.stdout.splitlines()
             if line.split()]
    return [n for n in names if n.startswith(PREFIX + "-")]


def _clean_leftovers():
    for name in _our_namespaces():
        m = re.match(r"^%s-(\d+)-" % PREFIX, name)
        if m and int(m.group(1)) != os.getpid() and not alive(
                int(m.group(1))):
            sys.stderr.write("test_netns: removing namespace %s left by "
                             "an aborted run\n" % name)
            _remove_ns(name)


class Net:
    """The topology of one test."""
    count = 0

    def __init__(self):
        Net.count += 1
        self.tag = "%s-%d-%d" % (PREFIX, os.getpid(), Net.count)
        self.ns = {h: "%s-%s" % (self.tag, h) for h in ("br",) + HOSTS}
        self.made = []
        _live_nets.append(self)
        try:
            self._build()
        except BaseException:
            self.destroy()
            raise

    def _build(self):
        for h in ("br",) + HOSTS:
            _sh(IP, "netns", "add", self.ns[h])
            self.made.append(self.ns[h])
            _sh(IP, "-n", self.ns[h], "link", "set", "lo", "up")
        br = self.ns["br"]
        _sh(IP, "-n", br, "link", "add", "br0", "type", "bridge")
        _sh(IP, "-n", br, "link", "set", "br0", "up")
        for h in HOSTS:
            # Made inside the bridge's namespace with the peer put straight
            # into the host's: nothing appears in the root namespace.
            port = "p-" + h
            _sh(IP, "-n", br, "link", "add", port, "type", "veth", "peer",
                "name", "eth0", "netns", self.ns[h])
            _sh(IP, "-n", br, "link", "set", port, "master", "br0")
            _sh(IP, "-n", br, "link", "set", port, "up")
            _sh(IP, "-n", self.ns[h], "addr", "add", ADDR[h] + "/24",
                "dev", "eth0")
            _sh(IP, "-n", self.ns[h], "link", "set", "eth0", "up")

    def exec_prefix(self, host):
        # ip netns exec execs the command: the pid is the program's own.
        return [IP, "netns", "exec", self.ns[host]]

    def iptables(self, host, *args):
        _sh(*(self.exec_prefix(host) + [IPTABLES, "-w", "5"] + list(args)))

    def rules(self, host):
        r = _run(self.exec_prefix(host) + [IPTABLES, "-w", "5", "-S"])
        return r.stdout + r.stderr

    def partition(self, worker, loud):
        """Cuts worker's host off from the coordinator's, at the
        coordinator's host, both ways. Silent: packets vanish. Loud: TCP
        is answered with a reset."""
        how = (["-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"]
               if loud else ["-j", "DROP"])
        self.iptables("co", "-I", "INPUT", "-s", ADDR[worker], *how)
        self.iptables("co", "-I", "OUTPUT", "-d", ADDR[worker], *how)

    def heal(self):
        self.iptables("co", "-F")

    def cable(self, host, plugged):
        """The bridge's end of host's link: down is a pulled cable (the
        host's eth0 stays configured, with no carrier)."""
        _sh(IP, "-n", self.ns["br"], "link", "set", "p-" + host,
            "up" if plugged else "down")

    def netns_inode(self, host):
        return os.stat("/run/netns/" + self.ns[host]).st_ino

    def tcp_peers(self, host, port):
        """Peer addresses of the established TCP connections to port."""
        out = _sh(*(self.exec_prefix(host) + [
            "ss", "-Htn", "state", "established", "( sport = :%s )" % port]))
        peers = set()
        for line in out.splitlines():
            cols = line.split()
            if cols:
                peers.add(cols[-1].rsplit(":", 1)[0])
        return peers

    def destroy(self):
        for ns in reversed(self.made):
            _remove_ns(ns)
        self.made = []
        if self in _live_nets:
            _live_nets.remove(self)


_live_nets = []
_live_clusters = []


def _teardown_all():
    for c in list(_live_clusters):
        try:
            c.close()
        except Exception:
            pass
        _live_clusters.remove(c)
    for net in list(_live_nets):
        net.destroy()


def _why_not():
    """Why these tests cannot run here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return ("needs root (ip netns, iptables in namespaces); CI runs as "
                "root")
    if not IP:
        return "ip not found: install iproute2 (scripts/install-deps.sh)"
    if not IPTABLES:
        return "iptables not found: install iptables (scripts/install-deps.sh)"
    probe = "%s-%d-probe" % (PREFIX, os.getpid())
    r = _run([IP, "netns", "add", probe])
    if r.returncode != 0:
        return "ip netns add fails here: %s" % r.stderr.strip()
    try:
        r = _run([IP, "netns", "exec", probe, IPTABLES, "-w", "5", "-S"])
        if r.returncode != 0:
            return "iptables does not work in a namespace: %s" % (
                r.stderr.strip())
    finally:
        _remove_ns(probe)
    return None


def setUpModule():
    why = _why_not()
    if why:
        sys.stderr.write("\n*** test_netns SKIPPED: %s ***\n\n" % why)
        raise unittest.SkipTest(why)
    _clean_leftovers()


def tearDownModule():
    _teardown_all()


# ---- the tests -------------------------------------------------------------

class NetnsTest(unittest.TestCase):
    def setUp(self):
        self.net = Net()
        self.c = Cluster(heartbeat_ms=HEARTBEAT_MS, lease_ms=LEASE_MS,
                         listen="tcp://%s:*" % ADDR["co"],
                         prefix=self.net.exec_prefix("co"))
        _live_clusters.append(self.c)
        # Beyond loopback without keys (issue #13): the namespaces' network
        # is the test's own, so say --insecure.
        self.c.start_coordinator(extra=("--insecure",))

    def tearDown(self):
        try:
            if not self._ok():
                self.c.dump_logs()
                sys.stderr.write("---- iptables in co ----\n%s"
                                 % self.net.rules("co"))
            self.c.close()
            _live_clusters.remove(self.c)
        finally:
            self.net.destroy()

    def _ok(self):
        # Whether this test has failed so far (3.11+: result; older:
        # errors on the outcome).
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return True
        if any(exc for _, exc in getattr(outcome, "errors", [])):
            return False
        result = getattr(outcome, "result", None)
        return not any(t is self for t, _ in
                       getattr(result, "failures", [])
                       + getattr(result, "errors", []))

    # ---- helpers ---------------------------------------------------------
    def start_worker(self, name, slots):
        self.c.start_worker(name, slots=slots,
                            prefix=self.net.exec_prefix(name))
        wait_for(lambda: self.workers().get(name, {}).get("alive"), 20,
                 "worker %s on host %s to join" % (name, ADDR[name]))

    def workers(self):
        return {w["name"]: w for w in self.c.cli_json("workers")["workers"]}

    def running_on(self, study, worker, min_step=1):
        return [t for t in self.c.cli_json("trials", study, "--state",
                                           "RUNNING")["trials"]
                if t["worker"] == worker and t["last_step"] is not None
                and t["last_step"] >= min_step]

    def show(self, study, number):
        return self.c.cli_json("trial", "show", study, str(number))

    def pid_of(self, number, attempt):
        return wait_for(lambda: next((pid for t, a, pid, ev in self.c.runs()
                                      if (t, a, ev) == (number, attempt,
                                                        "start")), None),
                        10, "trial %d attempt %d in runs.log"
                        % (number, attempt))

    def netns_of_pid(self, pid):
        return os.stat("/proc/%d/ns/net" % pid).st_ino

    def check_study(self, name, budget, steps):
        """Exactly the budget, all COMPLETE; per trial, attempts numbered
        1..n, all LOST but the last, which is COMPLETE; every step of the
        objective is stored."""
        s = self.c.study(name)
        self.assertEqual(s["state"], "FINISHED", s)
        self.assertEqual(s["counts"]["COMPLETE"], budget, s)
        self.assertEqual(s["counts"]["FAILED"] + s["counts"]["PRUNED"]
                         + s["counts"]["WAITING"] + s["counts"]["RUNNING"],
                         0, s)
        trials = self.c.trials(name)
        self.assertEqual(sorted(t["number"] for t in trials),
                         list(range(budget)))
        shows = {}
        for t in trials:
            show = self.show(name, t["number"])
            nums = [a["attempt"] for a in show["attempts"]]
            self.assertEqual(nums, list(range(1, len(nums) + 1)), show)
            outcomes = [a["outcome"] for a in show["attempts"]]
            self.assertEqual(outcomes, ["LOST"] * (len(nums) - 1)
                             + ["COMPLETE"], show)
            self.assertEqual(show["attempt"], len(nums), show)
            self.assertEqual(show["worker"], show["attempts"][-1]["worker"])
            got = sorted(v["step"] for v in show["intermediate"]
                         if v["metric"] == "loss")
            self.assertEqual(got, list(range(steps)), show)
            shows[t["number"]] = show
        return shows

    def check_usable(self, name, slots):
        """A short study with one trial per slot: every worker in slots
        (name -> free slots) is handed one, so each is usable again."""
        c = self.c
        c.create_study(study_yaml(name, trials=sum(slots.values()),
                                  retries=0, args="--sleep 0.5 --steps 2"),
                       name=name + ".yaml")
        s = c.wait_study_done(name, timeout=60)
        self.assertEqual(s["counts"]["COMPLETE"], sum(slots.values()), s)
        self.assertEqual({t["worker"] for t in c.trials(name)}, set(slots))

    def check_stale_killed(self, study, number, worker, pid, since):
        """The attempt-1 process on worker's host dies once the worker is
        heard from again, without ever finishing, and the worker says it
        was told so."""
        wait_for(lambda: not alive(pid), KILL_BOUND_S,
                 "stale attempt 1 (pid %d) on %s to be killed" % (pid, worker))
        sys.stderr.write("  [%s: stale attempt killed %.1fs after the "
                         "network came back]\n"
                         % (self.id().rsplit(".", 1)[1],
                            time.monotonic() - since))
        self.assertNotIn((number, 1, pid, "end"), self.c.runs(),
                         "attempt 1 ran to its end: it was not fenced off")
        log = self.c.log_text("worker-%s.log" % worker)
        self.assertRegex(log, r"trial %s#%d attempt 1: (refused|killed) by "
                              r"the coordinator.*stopping it"
                         % (re.escape(study), number))

    # ---- 1 -----------------------------------------------------------------
    def test_study_across_hosts(self):
        c, net = self.c, self.net
        self.assertTrue(c.endpoint.startswith("tcp://%s:" % ADDR["co"]),
                        c.endpoint)
        self.start_worker("w1", 1)
        self.start_worker("w2", 1)
        c.create_study(study_yaml("net", trials=6, retries=0,
                                  args="--sleep 0.2 --steps 3"))
        s = c.wait_study_done("net", timeout=60)
        self.assertEqual(s["counts"]["COMPLETE"], 6, s)
        shows = self.check_study("net", 6, 3)
        self.assertEqual({sh["worker"] for sh in shows.values()},
                         {"w1", "w2"})
        for show in shows.values():
            self.assertEqual(len(show["attempts"]), 1, show)
        # The workers' sessions cross the bridge: the coordinator's
        # connections come from the worker hosts' addresses.
        port = c.endpoint.rsplit(":", 1)[1]
        peers = net.tcp_peers("co", port)
        self.assertIn(ADDR["w1"], peers)
        self.assertIn(ADDR["w2"], peers)

    # ---- 2, 3 --------------------------------------------------------------
    def _partition(self, name, loud):
        c, net = self.c, self.net
        # w1 first, so the first dispatch gives it a trial; w2 has a
        # second slot free for the partitioned trial's next attempt.
        self.start_worker("w1", 1)
        self.start_worker("w2", 2)
        c.create_study(study_yaml(name, trials=2, retries=2,
                                  args="--sleep %s --steps %d"
                                  % (STEP_S, STEPS)))
        t = wait_for(lambda: self.running_on(name, "w1"), 30,
                     "a trial reporting on w1")[0]
        n = t["number"]
        pid = self.pid_of(n, 1)
        self.assertEqual(self.netns_of_pid(pid), net.netns_inode("w1"),
                         "attempt 1 does not run on host w1")

        net.partition("w1", loud)
        cut = time.monotonic()
        # w1 is silent to the coordinator: its lease runs out, and the
        # trial goes to w2 as attempt 2.
        show = wait_for(lambda: (lambda s: s if len(s["attempts"]) >= 2 and
                                 s["attempts"][1]["outcome"] == "RUNNING"
                                 else None)(self.show(name, n)),
                        20, "trial %d to be reassigned" % n)
        self.assertEqual(show["attempts"][0]["worker"], "w1", show)
        self.assertEqual(show["attempts"][0]["outcome"], "LOST", show)
        self.assertIn("lease expired", show["attempts"][0]["reason"])
        self.assertEqual(show["attempts"][1]["worker"], "w2", show)
        pid2 = self.pid_of(n, 2)
        self.assertEqual(self.netns_of_pid(pid2), net.netns_inode("w2"))
        # (A report heard after the last heartbeat keeps a worker "alive"
        # a little longer than its lease: wait, don't race it.)
        wait_for(lambda: not self.workers()["w1"]["alive"], 10,
                 "w1 to be reported not alive")
        # Meanwhile the cut-off host cannot be told: attempt 1 runs on.
        time.sleep(max(0.0, cut + HOLD_S - time.monotonic()))
        self.assertTrue(alive(pid), "attempt 1 died during the partition")

        net.heal()
        healed = time.monotonic()
        self.check_stale_killed(name, n, "w1", pid, healed)
        wait_for(lambda: self.workers().get("w1", {}).get("alive"), 30,
                 "w1 to rejoin after the heal")
        sys.stderr.write("  [%s: w1 alive again %.1fs after the heal]\n"
                         % (name, time.monotonic() - healed))

        s = c.wait_study_done(name, timeout=90)
        self.assertEqual(s["counts"]["COMPLETE"], 2, s)
        shows = self.check_study(name, 2, STEPS)
        self.assertEqual([(a["worker"], a["outcome"])
                          for a in shows[n]["attempts"]],
                         [("w1", "LOST"), ("w2", "COMPLETE")], shows[n])
        # The other trial never left w2.
        other = shows[1 - n]
        self.assertEqual([(a["worker"], a["outcome"])
                          for a in other["attempts"]],
                         [("w2", "COMPLETE")], other)
        self.assertTrue(self.workers()["w1"]["alive"])
        self.check_usable(name + "-after", {"w1": 1, "w2": 2})

    def test_silent_partition(self):
        self._partition("silent", loud=False)

    def test_loud_partition(self):
        self._partition("loud", loud=True)

    # ---- 4 -----------------------------------------------------------------
    def test_coordinator_unplugged(self):
        """The head node's cable is pulled for longer than a lease. Both
        workers are silent to it: their leases run out, their trials are
        LOST and wait for a retry, and nobody alive can take them. The
        workers cannot be told, so their attempts run on. Once plugged
        back, the workers are refused those attempts and kill them, and
        the trials run again as attempt 2; nothing counts twice and the
        budget is exact."""
        c, net = self.c, self.net
        self.start_worker("w1", 1)
        self.start_worker("w2", 1)
        c.create_study(study_yaml("unplug", trials=2, retries=2,
                                  args="--sleep %s --steps %d"
                                  % (STEP_S, STEPS)))
        on = {}
        for w in ("w1", "w2"):
            on[w] = wait_for(lambda: self.running_on("unplug", w), 30,
                             "a trial reporting on %s" % w)[0]["number"]
        pids = {w: self.pid_of(on[w], 1) for w in on}

        net.cable("co", plugged=False)
        cut = time.monotonic()
        # The coordinator itself is still reachable from its own host.
        for w, n in on.items():
            show = wait_for(lambda: (lambda s: s if s["state"] == "WAITING"
                                     else None)(self.show("unplug", n)),
                            20, "trial %d to be lost" % n)
            self.assertEqual([(a["worker"], a["outcome"])
                              for a in show["attempts"]],
                             [(w, "LOST")], show)
        wait_for(lambda: not any(x["alive"] for x in
                                 self.workers().values()), 10,
                 "both workers to be reported not alive")
        time.sleep(max(0.0, cut + HOLD_S - time.monotonic()))
        for w, pid in pids.items():
            self.assertTrue(alive(pid), "attempt 1 on %s died while the "
                            "coordinator was unplugged" % w)
        # Nothing was handed out while nobody could be reached.
        self.assertEqual(c.study("unplug")["counts"]["RUNNING"], 0)

        net.cable("co", plugged=True)
        plugged = time.monotonic()
        for w, n in on.items():
            self.check_stale_killed("unplug", n, w, pids[w], plugged)
        for w in on:
            wait_for(lambda: self.workers().get(w, {}).get("alive"), 30,
                     "%s to rejoin" % w)
        s = c.wait_study_done("unplug", timeout=90)
        self.assertEqual(s["counts"]["COMPLETE"], 2, s)
        shows = self.check_study("unplug", 2, STEPS)
        for w, n in on.items():
            self.assertEqual([a["outcome"] for a in shows[n]["attempts"]],
                             ["LOST", "COMPLETE"], shows[n])
            self.assertEqual(shows[n]["attempts"][0]["worker"], w)
        self.check_usable("unplug-after", {"w1": 1, "w2": 1})


if __name__ == "__main__":
    run_or_skip("test_netns", _why_not, _teardown_all)
