"""Hostile peers: a raw ZeroMQ/protobuf client (rawpeer.py) sends what no
hpo program would, but well-formed: NaN and infinities, other workers'
trials, huge counts, invalid UTF-8, two processes claiming one name. The
coordinator must answer with an Error, store nothing from a refused
message, and stay alive and correct: nothing a peer sends may make it
exit, and every reply must decode with a strict protobuf parser."""
import json
import math
import os
import sys
import time
import unittest

from harness import ClusterTest, exe, study_yaml, wait_for
import rawpeer
from rawpeer import RawPeer, body_of, with_bytes

WHY_NOT = rawpeer.load()
pb = rawpeer.pb

NAN, INF = float("nan"), float("inf")
# Codes a refusal of a well-formed but unacceptable request may carry.
REFUSED = ("ERR_INVALID", "ERR_BAD_MESSAGE")
# Kills a heartbeat of leases the worker does not hold may draw at most.
MAX_KILLS = 1024


def code_name(err):
    return pb.ErrorCode.Name(err.code)


class PeerTest(ClusterTest):
    # A long lease: the raw peers heartbeat only when a test says so.
    cluster_args = {"heartbeat_ms": 200, "lease_ms": 20000}

    # ---- helpers ---------------------------------------------------------
    def peer(self, name):
        p = RawPeer(self.c.endpoint, name)
        self.peers.append(p)
        return p

    def worker(self, name, slots=2, study="s", trials=6):
        """A raw worker holding `slots` trials of a new study: returns
        the peer and [(trial_id, attempt, number)]."""
        if study:
            self.c.create_study(study_yaml(study, trials=trials))
        p = self.peer(name)
        welcome = p.reply_to(p.hello(slots=slots))
        self.assertEqual(body_of(welcome), "welcome",
                         rawpeer.describe(welcome))
        p.heartbeat(free=slots)
        return p, p.assigned(slots)

    def refused(self, p, seq, codes=REFUSED, what="the refusal"):
        r = p.reply_to(seq, what=what)
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertIn(code_name(r.error), codes, rawpeer.describe(r))
        return r.error

    def alive(self):
        """The coordinator still runs and answers."""
        self.assertIsNone(self.c.coordinator.poll(),
                          "the coordinator exited (%s)"
                          % self.c.coordinator.returncode)
        self.c.cli("study", "list")

    def show(self, number, study="s"):
        return self.c.cli_json("trial", "show", study, str(number))

    def best(self, study="s"):
        r = self.c.cli("--json", "best", study, check=False)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    # ---- numbers ---------------------------------------------------------
    def test_report_nonfinite_refused(self):
        p, held = self.worker("p0")
        tid, att, number = held[0]
        for step, v in enumerate((NAN, INF, -INF)):
            seq = p.report(tid, att, step=step, loss=v)
            self.refused(p, seq, what="refusal of loss=%r" % v)
            self.alive()
        # A NaN among good metrics is refused too (the report, or at least
        # the NaN: whether the good metric is kept is not specified).
        self.refused(p, p.report(tid, att, step=5, acc=0.5, loss=NAN))
        self.alive()
        # The session still works; nothing non-finite was stored.
        p.acked(p.report(tid, att, step=9, loss=0.5))
        show = self.show(number)
        stored = [(v["step"], v["metric"], v["value"])
                  for v in show["intermediate"]]
        self.assertIn((9, "loss", 0.5), stored)
        for step, metric, value in stored:
            self.assertTrue(value is not None and math.isfinite(value),
                            stored)
            self.assertFalse(metric == "loss" and step != 9, stored)

    def test_report_bad_metric_name_refused(self):
        # The worker's rule for metric names holds on the coordinator too,
        # so what is stored needs no cleaning; before, a bad name was
        # stored after cleaning and an empty one silently dropped.
        p, held = self.worker("p0")
        tid, att, number = held[0]
        for name in ("bad name", "", "x" * 129, "caf\u00e9"):
            seq = p.report(tid, att, step=1, **{name: 0.5})
            err = self.refused(p, seq, what="refusal of metric %r" % name)
            self.assertIn("metric name", err.message)
        p.acked(p.report(tid, att, step=2, loss=0.25))
        stored = [(v["step"], v["metric"]) for v in
                  self.show(number)["intermediate"]]
        self.assertEqual(stored, [(2, "loss")])
        self.alive()

    def test_report_nan_resent_no_crash_loop(self):
        # A worker resends what is not acknowledged: the coordinator must
        # survive the same NaN report again and again.
        p, held = self.worker("p0")
        tid, att, _ = held[0]
        for _ in range(5):
            self.refused(p, p.report(tid, att, step=1, loss=NAN))
        self.alive()

    def test_finish_nonfinite_refused_best_stays_finite(self):
        p, held = self.worker("p0")
        (t1, a1, n1), (t2, a2, n2) = held
        p.acked(p.finish(t2, a2, value=0.5))
        for v in (NAN, INF, -INF):
            self.refused(p, p.finish(t1, a1, value=v),
                         what="refusal of Finish value %r" % v)
            self.alive()
            best = self.best()
            self.assertIsNotNone(best)
            self.assertTrue(math.isfinite(best["value"]), best)
            self.assertEqual((best["number"], best["value"]), (n2, 0.5))
        show = self.show(n1)
        if show["state"] == "COMPLETE":
            self.assertTrue(show["value"] is None
                            or math.isfinite(show["value"]), show)
        # Nothing refused was stored either: a restart agrees.
        self.c.stop_coordinator()
        self.c.start_coordinator()
        best = self.best()
        self.assertEqual((best["number"], best["value"]), (n2, 0.5), best)

    # ---- other workers' trials ------------------------------------------
    def test_other_workers_trial_fenced(self):
        p0, held = self.worker("p0")
        tid, att, number = held[0]
        p1 = self.peer("p1")
        p1.reply_to(p1.hello(slots=1))
        for seq, what in ((p1.report(tid, att, step=0, loss=0.125), "Report"),
                          (p1.finish(tid, att, value=0.125), "Finish")):
            # Refused, or acknowledged as stale and told to kill it; the
            # trial is not p1's either way.
            r = p1.wait(lambda e: (e.seq == seq and body_of(e) == "error")
                        or (body_of(e) == "kill" and e.kill.trial_id == tid),
                        5, "refusal of another worker's %s" % what)
            if body_of(r) == "error":
                self.assertIn(code_name(r.error), REFUSED + (
                    "ERR_NOT_FOUND",), rawpeer.describe(r))
        self.alive()
        show = self.show(number)
        self.assertEqual(show["state"], "RUNNING", show)
        self.assertEqual(show["worker"], "p0", show)
        self.assertEqual(show["intermediate"], [], show)
        self.assertIsNone(self.best())
        # The owner's own messages still count.
        p0.acked(p0.report(tid, att, step=0, loss=0.75))
        p0.acked(p0.finish(tid, att, value=0.75))
        show = self.show(number)
        self.assertEqual((show["state"], show["value"]), ("COMPLETE", 0.75))
        self.assertEqual([(v["step"], v["value"]) for v in
                          show["intermediate"]], [(0, 0.75)])

    # ---- huge counts ------------------------------------------------------
    def test_heartbeat_of_foreign_leases_bounded(self):
        p, held = self.worker("p0", slots=1)
        tid, att, number = held[0]
        n = 65536
        # Its own lease, and 65,535 it never held.
        leases = [(tid, att)] + [(10_000_000 + k, 1) for k in range(n - 1)]
        p.heartbeat(leases=leases, free=0)
        got = p.collect(4)
        kills = sum(body_of(e) == "kill" for e in got)
        self.assertLessEqual(kills, MAX_KILLS,
                             "%d Kills for one heartbeat of %d leases it "
                             "does not hold" % (kills, n))
        self.alive()
        # It keeps its real trial.
        p.acked(p.heartbeat(leases=[(tid, att)], free=0))
        self.assertEqual(self.show(number)["state"], "RUNNING")

    def test_hello_limits_refused(self):
        p = self.peer("p")
        for kw, what in (({"slots": 2**32 - 1}, "slots 2^32-1"),
                         ({"slots": 0}, "slots 0"),
                         ({"name": "n" * 300}, "a 300-byte name"),
                         ({"name": ""}, "an empty name")):
            args = {"name": "p", "slots": 1}
            args.update(kw)
            err = self.refused(p, p.hello(**args),
                               codes=("ERR_INVALID",), what=what)
            self.assertTrue(err.message, what)
        self.alive()
        self.assertEqual(self.c.cli_json("workers")["workers"], [])

    def test_worker_with_long_name_exits(self):
        # A refusal that will never change: the worker says why and exits
        # 1 instead of saying Hello for ever.
        c = self.c
        w = c._spawn([exe("hpo-worker"), "--coordinator", c.endpoint,
                      "--name", "n" * 300, "--state-dir",
                      os.path.join(c.dir, "state-long")], "worker-long.log")
        c.workers["long"] = w
        try:
            w.wait(timeout=20)
        except Exception:
            self.fail("hpo-worker --name <300 bytes> still runs after 20 s: "
                      + c.log_text("worker-long.log")[-500:])
        # 1 as the issue says, or 2 where the worker checks the name
        # itself and calls it a usage error (its --help: "2 on a usage
        # error"); never a retry loop.
        self.assertIn(w.returncode, (1, 2))
        self.assertIn("name", c.log_text("worker-long.log"))

    # ---- invalid UTF-8 ----------------------------------------------------

    def test_invalid_utf8_not_echoed_in_errors(self):
        p = self.peer("p")
        bad = b"\xc3\x28\xff\xfe"
        cases = [
            ("study_show", pb.StudyRef(name="PH01"), "a study name"),
            ("study_create", pb.StudyCreate(filename="PH01.yaml",
                                            spec="name: x\n"),
             "a study file's name"),
            ("trials", pb.TrialsQuery(study="PH01"), "a trials query"),
            ("trial_show", pb.TrialRef(study="PH01"), "a trial's study"),
            ("best", pb.StudyRef(name="PH01"), "a best query"),
            ("hello", pb.Hello(name="PH01", slots=0), "a refused Hello"),
        ]
        for body, msg, what in cases:
            env = p.envelope(body, msg)
            data = with_bytes(env.SerializeToString(), "PH01", bad)
            p.send_raw(data)
            # rawpeer raises if the reply does not decode strictly.
            r = p.reply_to(env.seq,
                           what="the reply to invalid UTF-8 in " + what)
            self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        # Valid UTF-8 cut short must not become invalid: a long name whose
        # last character is two bytes, at any cut a message might make.
        for k in range(190, 260):
            name = "a" * k + "\u00e9\u00e9"
            r = p.request("study_show", pb.StudyRef(name=name))
            self.assertEqual(body_of(r), "error")
        self.alive()

    def test_invalid_utf8_not_echoed_in_listings(self):
        # What a peer names itself, its metrics or its log tail is shown
        # to every client: it must reach them as valid UTF-8 (or be
        # refused at the door).
        bad = b"\xc3\x28\xff\xfe"
        self.c.create_study(study_yaml("s", trials=4))
        p = self.peer("p")
        env = p.envelope("hello", pb.Hello(name="PH06", host="PH07",
                                           slots=2))
        data = with_bytes(env.SerializeToString(), "PH06", bad)
        p.send_raw(with_bytes(data, "PH07", bad))
        p.wait(lambda e: body_of(e) in ("welcome", "error"), 5,
               "an answer to a Hello with invalid UTF-8")
        q = self.peer("q")
        q.reply_to(q.hello(slots=1))
        q.heartbeat(free=1)
        tid, att, number = q.assigned(1)[0]
        env = q.envelope("report", pb.Report(
            trial_id=tid, attempt=att, has_step=True, step=0,
            metrics=[pb.Metric(name="PH08", value=1.0),
                     pb.Metric(name="loss", value=1.0)]))
        q.send_raw(with_bytes(env.SerializeToString(), "PH08", bad))
        env = q.envelope("finish", pb.Finish(
            trial_id=tid, attempt=att, outcome=pb.OUTCOME_FAILED,
            reason="PH09", log_tail="tail PH10\n"))
        data = with_bytes(env.SerializeToString(), "PH09", bad)
        q.send_raw(with_bytes(data, "PH10", bad))
        time.sleep(0.5)
        cli = self.peer("cli")
        for body, msg in (("workers", pb.WorkersQuery()),
                          ("trials", pb.TrialsQuery(study="s")),
                          ("trial_show", pb.TrialRef(study="s",
                                                     number=number)),
                          ("study_show", pb.StudyRef(name="s"))):
            r = cli.request(body, msg)  # raises if it does not decode
            self.assertNotEqual(body_of(r), "error", rawpeer.describe(r))
        self.alive()

    def test_study_file_with_invalid_utf8_refused(self):
        # libfyaml 0.7.12 stops reading at the first byte that is not
        # UTF-8, without an error: what follows was silently ignored (here
        # a key that is an error, and a budget). A study file is text; one
        # that is not UTF-8 is refused, and the reply decodes.
        p = self.peer("cli")
        env = p.envelope("study_create", pb.StudyCreate(
            filename="s.yaml", spec=study_yaml("u", trials=1)
            + "PH01: 1\nbudget: {trials: 7}\n"))
        p.send_raw(with_bytes(env.SerializeToString(), "PH01",
                              b"\xc3\x28\xff\xfe"))
        r = p.reply_to(env.seq, what="an answer to a study file that is "
                       "not UTF-8")
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertIn(code_name(r.error), REFUSED)
        self.assertNotIn("u", [st["name"] for st in
                               self.c.cli_json("study", "list")["studies"]])
        self.alive()

    def test_study_file_that_crashed_libfyaml(self):
        # Found by fuzz_spec (tests/fuzz/regressions/spec/): libfyaml
        # 0.7.12 dereferences NULL in fy_parser_destroy after this study
        # file fails to parse, and the coordinator died with it.
        p = self.peer("cli")
        r = p.request("study_create", pb.StudyCreate(filename="s.yaml",
                                                     spec="? e:\t?"))
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertIn(code_name(r.error), REFUSED)
        self.alive()

    def test_study_file_directive_with_invalid_utf8(self):
        # Found by fuzz_spec (tests/fuzz/regressions/spec/): libfyaml
        # 0.7.12 loops for ever on a directive line ("%...") holding
        # bytes that are not UTF-8, and so did the coordinator's loop.
        p = self.peer("cli")
        env = p.envelope("study_create", pb.StudyCreate(
            filename="s.yaml", spec="PH\n" + study_yaml("h", trials=1)))
        p.send_raw(with_bytes(env.SerializeToString(), "PH", b"%\x93"))
        r = p.reply_to(env.seq, timeout=10,
                       what="an answer to a study file with '%\\x93'")
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertIn(code_name(r.error), REFUSED)
        self.alive()

    # ---- one name, two processes ---------------------------------------
    def test_newer_incarnation_replaces_older(self):
        old, new = self.peer("old"), self.peer("new")
        r = old.reply_to(old.hello("dup", incarnation=11,
                                   started_us=1_000_000, pid=111))
        self.assertEqual(body_of(r), "welcome")
        r = new.reply_to(new.hello("dup", incarnation=22,
                                   started_us=2_000_000, pid=222))
        self.assertEqual(body_of(r), "welcome")
        # The older one is told, now or on its next message, and does not
        # get its session back: ERR_REPLACED, or UNKNOWN_SESSION and then
        # ERR_REPLACED for its next Hello (below); never an ack.
        seq = old.heartbeat(free=1)
        r = old.wait(lambda e: body_of(e) == "error" or seq in e.acks, 5,
                     "an answer to the older process's heartbeat")
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertIn(code_name(r.error),
                      ("ERR_REPLACED", "ERR_UNKNOWN_SESSION"),
                      rawpeer.describe(r))
        # The newer one keeps the name.
        new.acked(new.heartbeat(free=0))
        workers = self.c.cli_json("workers")["workers"]
        self.assertEqual([(w["name"], w["pid"]) for w in workers],
                         [("dup", 222)], workers)
        # The older one saying Hello again does not take it back.
        r = old.reply_to(old.hello("dup", incarnation=11,
                                   started_us=1_000_000, pid=111))
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertEqual(code_name(r.error), "ERR_REPLACED")
        new.acked(new.heartbeat(free=0))

    def test_older_incarnation_cannot_take_a_live_name(self):
        new, old = self.peer("new"), self.peer("old")
        new.reply_to(new.hello("dup", incarnation=22, started_us=2_000_000,
                               pid=222))
        r = old.reply_to(old.hello("dup", incarnation=11,
                                   started_us=1_000_000, pid=111))
        self.assertEqual(body_of(r), "error", rawpeer.describe(r))
        self.assertEqual(code_name(r.error), "ERR_REPLACED")
        new.acked(new.heartbeat(free=0))
        workers = self.c.cli_json("workers")["workers"]
        self.assertEqual([(w["name"], w["pid"]) for w in workers],
                         [("dup", 222)], workers)

    def test_same_incarnation_reconnects(self):
        # One process on a new connection (a reconnect, a coordinator
        # restart) is the same worker: welcomed, not replaced.
        a, b = self.peer("a"), self.peer("b")
        r = a.reply_to(a.hello("same", incarnation=7, started_us=5, pid=7))
        self.assertEqual(body_of(r), "welcome")
        r = b.reply_to(b.hello("same", incarnation=7, started_us=5, pid=7))
        self.assertEqual(body_of(r), "welcome", rawpeer.describe(r))
        b.acked(b.heartbeat(free=0))

    def test_two_real_workers_one_name(self):
        c = self.c
        c.start_worker("twin")
        wait_for(lambda: c.cli_json("workers")["workers"], 10,
                 "the first twin to join")
        time.sleep(0.2)  # started_us differ
        c.workers["twin-older"] = c.workers.pop("twin")
        c.start_worker("twin")
        older = c.workers["twin-older"]
        try:
            older.wait(timeout=15)
        except Exception:
            self.fail("the older of two workers named twin still runs")
        self.assertEqual(older.returncode, 1)
        self.assertIsNone(c.workers["twin"].poll(), "the newer one exited")
        workers = wait_for(lambda: (lambda ws: ws if len(ws) == 1 and
                                    ws[0]["pid"] == c.workers["twin"].pid
                                    else None)(
                                        c.cli_json("workers")["workers"]),
                           10, "one worker twin, the newer")
        self.assertTrue(workers[0]["alive"])


if __name__ == "__main__":
    if WHY_NOT:
        print("skipped: " + WHY_NOT, file=sys.stderr)
        sys.exit(77)
    unittest.main()
