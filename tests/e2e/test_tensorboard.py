"""hpo export --tensorboard (issue #12), checked by an independent reader.

The reader is built here, at test time: protoc (Debian's protobuf
compiler) compiles the test's own copy of the schemas (tb_proto/, written
apart from the exporter's proto/tensorboard/) for python3-protobuf. It
reads every record of every events file, checking the length's and the
data's masked CRC-32C (computed here, bit by bit), decodes every Event,
Summary and HParams plugin data, and compares them with what the study
holds (hpo trials --json, hpo trial show --json, hpo study show --json).

Studies are driven by hpo ask / report / tell, so each trial's end is
chosen: COMPLETE, PRUNED, FAILED, and one left RUNNING. The space is
conditional (mom exists only with opt: sgd) and mixes ranges, a log
range, a categorical and an int value list. --follow is checked picking
up trials that end after it started, stopping by itself when the study
ends, and stopping on SIGINT with the experiment written.

TensorBoard itself is not packaged in Debian bookworm (apt-cache search
tensorboard finds nothing). Where it can be imported anyway (pip, or a
source tree with its protos compiled, on PYTHONPATH), its own loader and
HParams backend read the export too (test_tensorboard_reads_it);
elsewhere that test is skipped.
"""
import glob
import importlib
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from harness import ClusterTest, PYTHON, exe, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))

SPACE = """space:
  lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
  layers: {type: int, low: 1, high: 4}
  opt: {type: categorical, values: [adam, sgd]}
  mom: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}
  bs: {type: int, values: [16, 32, 64]}
"""


# A worker's trial: loss and acc at each step, then the objective. Trial
# 0's first attempt reports two steps more and fails; its retry's curve
# is the one exported (the store keeps attempt 1's steps 3 and 4).
TRAIN = r'''
import json, os, sys
fd = int(os.environ["HPO_REPORT_FD"])
with open(os.environ["HPO_PARAMS_FILE"]) as f:
    p = json.load(f)
first = os.environ["HPO_TRIAL"] == "0" and os.environ["HPO_ATTEMPT"] == "1"
for step in range(5 if first else 3):
    loss = p["lr"] * 10 + 1.0 / (step + 1)
    os.write(fd, ("step=%d loss=%.17g acc=%.17g\n"
                  % (step, loss, 1 - loss / 3)).encode())
if first:
    sys.exit(3)
os.write(fd, ("loss=%.17g\n" % (p["lr"] * 10)).encode())
'''


def study_text(name, trials):
    return ("name: %s\n"
            "objective: {metric: loss, direction: minimize}\n"
            "sampler: {type: random, seed: 5}\n"
            "budget: {trials: %d}\n" % (name, trials)) + SPACE


# The experiment's hparam infos the space above must give: (name, type,
# ("interval", lo, hi) or ("discrete", [values])).
STRING, FLOAT64 = 1, 3
EXPECTED_HPARAMS = [
    ("lr", FLOAT64, ("interval", 1.0e-4, 1.0e-1)),
    ("layers", FLOAT64, ("interval", 1, 4)),
    ("opt", STRING, ("discrete", ["adam", "sgd"])),
    ("mom", FLOAT64, ("interval", 0.5, 0.99)),
    ("bs", FLOAT64, ("discrete", [16, 32, 64])),
]


def crc32c(data):
    """CRC-32C, bit by bit: the reflected Castagnoli polynomial."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) \
        & 0xFFFFFFFF


def f32(x):
    """x as a float32 reads back."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Reader:
    """Compiles tb_proto/ with protoc and reads events files with it."""

    def __init__(self, outdir):
        subprocess.run(["protoc", "--python_out=" + outdir,
                        "-I", os.path.join(HERE, "tb_proto"),
                        "tfevent.proto", "hparams_plugin.proto"],
                       check=True, timeout=60)
        sys.path.insert(0, outdir)
        self.ev = importlib.import_module("tfevent_pb2")
        self.hp = importlib.import_module("hparams_plugin_pb2")

    def records(self, path, tc):
        """Every record's data; both CRCs checked. A file being appended
        to may end in a partial record: stop before it."""
        with open(path, "rb") as f:
            data = f.read()
        out, at = [], 0
        while len(data) - at >= 12:
            head = data[at:at + 8]
            (n,) = struct.unpack("<Q", head)
            (crc,) = struct.unpack("<I", data[at + 8:at + 12])
            tc.assertEqual(crc, masked(crc32c(head)),
                           "%s@%d: length CRC" % (path, at))
            if len(data) - at < 12 + n + 4:
                break
            body = data[at + 12:at + 12 + n]
            (crc,) = struct.unpack("<I", data[at + 12 + n:at + 16 + n])
            tc.assertEqual(crc, masked(crc32c(body)),
                           "%s@%d: data CRC" % (path, at))
            out.append(body)
            at += 16 + n
        return out

    def events(self, path, tc):
        out = []
        for body in self.records(path, tc):
            e = self.ev.Event()
            e.ParseFromString(body)
            # Every byte was understood by the test's schema.
            tc.assertEqual(e.SerializeToString(), body)
            out.append(e)
        tc.assertTrue(out, path)
        tc.assertEqual(out[0].WhichOneof("what"), "file_version")
        tc.assertEqual(out[0].file_version, "brain.Event:2")
        return out[1:]

    def plugin(self, value, tc):
        """An HParams summary value's plugin data."""
        md = value.metadata
        tc.assertEqual(md.plugin_data.plugin_name, "hparams")
        # As TensorBoard's own writer: the empty float vector.
        tc.assertEqual(value.WhichOneof("value"), "tensor")
        tc.assertEqual(value.tensor.dtype, 1)
        tc.assertEqual([d.size for d in value.tensor.tensor_shape.dim], [0])
        data = self.hp.PluginData()
        data.ParseFromString(md.plugin_data.content)
        tc.assertEqual(data.SerializeToString(), md.plugin_data.content)
        tc.assertEqual(data.version, 0)
        return data


def events_files(d):
    return sorted(glob.glob(os.path.join(d, "events.out.tfevents.*")))


class TensorBoardTest(ClusterTest):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hpo-tb-")
        cls.reader = Reader(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- driving a study ------------------------------------------------
    def ask(self, name):
        return self.c.cli_json("ask", name)["number"]

    def report(self, name, n, steps):
        for step in range(steps):
            loss = 1.0 / (step + 1) + n * 0.01
            self.c.cli("report", name, str(n), str(step),
                       "loss=%r" % loss, "acc=%r" % (1 - loss / 3))

    def play(self, name, n, end, steps=3):
        """Trial n reports steps, then ends as end says (None: left
        RUNNING)."""
        self.report(name, n, steps)
        if end == "complete":
            self.c.cli("tell", name, str(n), repr(0.25 + n / 100.0))
        elif end in ("pruned", "failed"):
            self.c.cli("tell", name, str(n), "--state", end)

    def export(self, name, out, *extra, check=True):
        return self.c.cli("export", name, "--tensorboard", out, *extra,
                          check=check)

    # ---- checking the files ---------------------------------------------
    def check_experiment(self, out, name, metrics):
        files = events_files(out)
        self.assertEqual(len(files), 1, files)
        events = self.reader.events(files[0], self)
        self.assertEqual(len(events), 1)
        values = events[0].summary.value
        self.assertEqual(len(values), 1)
        self.assertEqual(values[0].tag, "_hparams_/experiment")
        data = self.reader.plugin(values[0], self)
        self.assertEqual(data.WhichOneof("data"), "experiment")
        exp = data.experiment
        study = self.c.study(name)
        self.assertAlmostEqual(exp.time_created_secs, study["created"],
                               places=3)
        got = []
        for info in exp.hparam_infos:
            kind = info.WhichOneof("domain")
            if kind == "domain_interval":
                dom = ("interval", info.domain_interval.min_value,
                       info.domain_interval.max_value)
            else:
                self.assertEqual(kind, "domain_discrete", info.name)
                dom = ("discrete", [
                    getattr(v, v.WhichOneof("kind"))
                    for v in info.domain_discrete.values])
            got.append((info.name, info.type, dom))
        self.assertEqual(got, EXPECTED_HPARAMS)
        self.assertEqual([(m.name.group, m.name.tag)
                          for m in exp.metric_infos],
                         [("", m) for m in metrics])

    def check_run(self, out, name, trial):
        """Trial's run: its session start, its reports, its end."""
        n = trial["number"]
        files = events_files(os.path.join(out, str(n)))
        self.assertEqual(len(files), 1, files)
        events = self.reader.events(files[0], self)
        show = self.c.cli_json("trial", "show", name, str(n))
        start = events.pop(0)
        self.assertEqual(start.summary.value[0].tag,
                         "_hparams_/session_start_info")
        info = self.reader.plugin(start.summary.value[0], self)
        self.assertEqual(info.WhichOneof("data"), "session_start_info")
        ssi = info.session_start_info
        self.assertEqual(ssi.group_name, str(n))
        self.assertAlmostEqual(ssi.start_time_secs, trial["started"],
                               places=5)
        hparams = {}
        for key, v in ssi.hparams.items():
            kind = v.WhichOneof("kind")
            self.assertIn(kind, ("number_value", "string_value"), key)
            hparams[key] = getattr(v, kind)
        # Absent (when:) parameters are left out, not written as text.
        self.assertEqual(hparams, trial["params"])
        for key, v in trial["params"].items():
            self.assertEqual(ssi.hparams[key].WhichOneof("kind"),
                             "string_value" if isinstance(v, str)
                             else "number_value")
        # The latest attempt's reports, in order, then the end.
        want = [(v["metric"], v["step"], f32(v["value"]))
                for v in show["intermediate"]
                if v["attempt"] == show["attempt"]]
        scalars = []
        while events and events[0].summary.value[0].WhichOneof("value") \
                == "simple_value":
            e = events.pop(0)
            self.assertEqual(len(e.summary.value), 1)
            v = e.summary.value[0]
            scalars.append((v.tag, e.step, v.simple_value))
        state = trial["state"]
        if state in ("COMPLETE", "PRUNED") and trial["value"] is not None:
            last = max([s for m, s, _ in want if m == "loss"] or [0])
            want.append(("loss", last, f32(trial["value"])))
        self.assertEqual(scalars, want)
        if state == "RUNNING":
            self.assertEqual(events, [])
            return
        self.assertEqual(len(events), 1)
        end = events[0].summary.value[0]
        self.assertEqual(end.tag, "_hparams_/session_end_info")
        info = self.reader.plugin(end, self)
        sei = info.session_end_info
        status = self.reader.hp.Status
        self.assertEqual(sei.status,
                         status.Value("STATUS_FAILURE") if state == "FAILED"
                         else status.Value("STATUS_SUCCESS"))
        self.assertAlmostEqual(sei.end_time_secs, trial["ended"], places=5)

    def check_export(self, out, name, metrics=("loss", "acc")):
        trials = self.c.trials(name)
        ran = sorted(str(t["number"]) for t in trials
                     if t["state"] != "WAITING")
        runs = sorted(d for d in os.listdir(out)
                      if os.path.isdir(os.path.join(out, d)))
        self.assertEqual(runs, ran)
        for t in trials:
            if t["state"] != "WAITING":
                self.check_run(out, name, t)
        self.check_experiment(out, name, metrics)
        return trials

    # ---- tests ------------------------------------------------------------
    def test_crc32c(self):
        # RFC 3720's check value, so the reader's CRC is itself right.
        self.assertEqual(crc32c(b"123456789"), 0xE3069283)

    def make_cond(self):
        """Study cond: 6 trials, every end, one left RUNNING."""
        self.c.create_study(study_text("cond", 6))
        ends = ["complete", "pruned", "failed", "complete", "complete", None]
        for end in ends:
            self.play("cond", self.ask("cond"), end)

    def test_export(self):
        c = self.c
        self.make_cond()
        out = os.path.join(c.dir, "tb")
        r = self.export("cond", out)
        self.assertIn("wrote 6 trials", r.stdout)
        trials = self.check_export(out, "cond")
        states = sorted(t["state"] for t in trials)
        self.assertEqual(states, ["COMPLETE"] * 3 + ["FAILED", "PRUNED",
                                                     "RUNNING"])
        # The conditional parameter is in some trials and not others.
        has_mom = [("mom" in t["params"]) for t in trials]
        self.assertIn(True, has_mom)
        self.assertIn(False, has_mom)
        # An export does not resume: a non-empty DIR is refused.
        r = self.export("cond", out, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not empty", r.stderr)
        # A study that does not exist leaves no directory.
        gone = os.path.join(c.dir, "gone")
        r = self.export("nosuch", gone, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(os.path.exists(gone))
        r = c.cli("export", "cond", "--tensorboard", gone, "--curves",
                  check=False)
        self.assertEqual(r.returncode, 2)

    def test_worker_retried(self):
        c = self.c
        script = os.path.join(c.dir, "train.py")
        with open(script, "w") as f:
            f.write(TRAIN)
        text = study_text("run", 3).replace(
            "budget:", "command: %s %s\ntrial: {retries: 1}\nbudget:"
            % (PYTHON, script))
        c.start_worker("w1", slots=1)
        c.create_study(text)
        c.wait_study_done("run")
        show = c.cli_json("trial", "show", "run", "0")
        self.assertEqual(show["attempt"], 2)
        self.assertIn(1, [v["attempt"] for v in show["intermediate"]])
        out = os.path.join(c.dir, "tb-run")
        self.export("run", out)
        trials = self.check_export(out, "run")
        self.assertEqual([t["state"] for t in trials], ["COMPLETE"] * 3)

    def test_tensorboard_reads_it(self):
        """TensorBoard's own loader and HParams backend, where TensorBoard
        can be imported (not packaged in Debian: skipped unless it is on
        the Python path, from pip or a source tree with its protos)."""
        try:
            from tensorboard import context
            from tensorboard.backend.event_processing import \
                data_provider, plugin_event_multiplexer
            from tensorboard.plugins import base_plugin
            from tensorboard.plugins.hparams import api_pb2, \
                backend_context, get_experiment, list_session_groups
        except ImportError as e:
            self.skipTest("TensorBoard cannot be imported: %s" % e)
        self.make_cond()
        out = os.path.join(self.c.dir, "tb")
        self.export("cond", out)
        mux = plugin_event_multiplexer.EventMultiplexer()
        mux.AddRunsFromDirectory(out)
        mux.Reload()
        tb = base_plugin.TBContext(
            logdir=out, multiplexer=mux,
            data_provider=data_provider.MultiplexerDataProvider(mux, out))
        backend = backend_context.Context(tb)
        rc = context.RequestContext()
        exp = get_experiment.Handler(
            rc, backend, "", api_pb2.GetExperimentRequest()).run()
        self.assertEqual(sorted(i.name for i in exp.hparam_infos),
                         sorted(h[0] for h in EXPECTED_HPARAMS))
        self.assertEqual([m.name.tag for m in exp.metric_infos],
                         ["loss", "acc"])
        request = api_pb2.ListSessionGroupsRequest(
            start_index=0, slice_size=100, allowed_statuses=[0, 1, 2, 3],
            aggregation_type=api_pb2.AGGREGATION_AVG)
        groups = list_session_groups.Handler(rc, backend, "",
                                             request).run().session_groups
        status = {"COMPLETE": api_pb2.STATUS_SUCCESS,
                  "PRUNED": api_pb2.STATUS_SUCCESS,
                  "FAILED": api_pb2.STATUS_FAILURE,
                  "RUNNING": api_pb2.STATUS_UNKNOWN}
        trials = {str(t["number"]): t for t in self.c.trials("cond")}
        self.assertEqual(sorted(g.name for g in groups), sorted(trials))
        for g in groups:
            t = trials[g.name]
            hparams = {k: getattr(v, v.WhichOneof("kind"))
                       for k, v in g.hparams.items()}
            self.assertEqual(hparams, t["params"])
            self.assertEqual(g.sessions[0].status, status[t["state"]])
            loss = [m.value for m in g.metric_values if m.name.tag == "loss"]
            if t["state"] in ("COMPLETE", "PRUNED"):
                self.assertEqual(loss, [f32(t["value"])])

    def test_follow_restart(self):
        """A coordinator restart does not end a follow: it tries again
        until the coordinator answers, then carries on."""
        c = self.c
        c.create_study(study_text("again", 2))
        self.play("again", self.ask("again"), "complete", steps=2)
        out = os.path.join(c.dir, "tb-again")
        p, log = self.follow("again", out, "--timeout", "1")
        wait_for(lambda: self.ended_in(out, 0), 20, "trial 0's end")
        c.stop_coordinator(signal.SIGKILL)
        # Longer than --timeout: a request has gone unanswered.
        time.sleep(2.5)
        self.assertIsNone(p.poll(), "the follow ended with the coordinator")
        c.start_coordinator()
        self.play("again", self.ask("again"), "complete", steps=2)
        rc = p.wait(timeout=30)
        log.seek(0)
        text = log.read()
        self.assertEqual(rc, 0, text)
        self.assertIn("trying again", text)
        self.assertIn("wrote 2 trials", text)
        self.check_export(out, "again")

    def follow(self, name, out, *options):
        log = open(os.path.join(self.c.dir, "follow-%s.out" % name), "w+")
        p = subprocess.Popen(
            [exe("hpo"), "--coordinator", self.c.endpoint] + list(options) +
            ["export", name, "--tensorboard", out, "--follow",
             "--interval", "0.1"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.c.dir)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        self.addCleanup(log.close)
        return p, log

    def scalars_in(self, out, n):
        """How many scalars trial n's run holds yet."""
        files = events_files(os.path.join(out, str(n)))
        if not files:
            return 0
        return sum(1 for e in self.reader.events(files[0], self)
                   if e.summary.value and
                   e.summary.value[0].WhichOneof("value") == "simple_value")

    def ended_in(self, out, n):
        """Whether trial n's run holds its session end yet."""
        files = events_files(os.path.join(out, str(n)))
        if not files:
            return False
        return any(e.summary.value and e.summary.value[0].tag ==
                   "_hparams_/session_end_info"
                   for e in self.reader.events(files[0], self))

    def test_follow(self):
        c = self.c
        c.create_study(study_text("live", 4))
        n0 = self.ask("live")
        self.play("live", n0, "complete")
        out = os.path.join(c.dir, "tb-live")
        p, log = self.follow("live", out)
        wait_for(lambda: self.ended_in(out, n0), 20, "trial 0's end")
        # Started after the export: a run appears while it runs, its
        # reports as they come, then its end.
        n1 = self.ask("live")
        self.report("live", n1, 2)
        wait_for(lambda: os.path.isdir(os.path.join(out, str(n1))), 20,
                 "trial 1's run")
        self.report("live", n1, 4)
        self.c.cli("tell", "live", str(n1), "--state", "pruned")
        for end in ("failed", "complete"):
            self.play("live", self.ask("live"), end)
        # The budget is spent: the study ends, and so does the follow.
        rc = p.wait(timeout=30)
        log.seek(0)
        text = log.read()
        self.assertEqual(rc, 0, text)
        self.assertIn("wrote 4 trials", text)
        self.assertEqual(c.study("live")["state"], "FINISHED")
        self.check_export(out, "live")

    def test_follow_interrupted(self):
        c = self.c
        c.create_study(study_text("cut", 5))
        self.play("cut", self.ask("cut"), "complete", steps=2)
        out = os.path.join(c.dir, "tb-cut")
        p, log = self.follow("cut", out)
        wait_for(lambda: self.ended_in(out, 0), 20, "trial 0's end")
        self.play("cut", self.ask("cut"), None, steps=2)
        # Two steps of loss and acc.
        wait_for(lambda: self.scalars_in(out, 1) == 4, 20,
                 "trial 1's reports")
        self.assertIsNone(p.poll())
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=20)
        log.seek(0)
        text = log.read()
        self.assertEqual(rc, 0, text)
        self.assertIn("stopped; wrote 2 trials", text)
        self.check_export(out, "cut")


if __name__ == "__main__":
    unittest.main(verbosity=2)
