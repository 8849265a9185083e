#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/.

    HPO_BIN=build /usr/bin/python3 tests/fuzz/seeds.py

Needs hpo_pb2 from the build (protoc --python_out, see CMakeLists.txt).
The seeds are committed; rerun this after a change to proto/hpo.proto.
wire/ gets single envelopes of every request kind; server/ gets
conversations in fuzz_server.c's framing: a worker says Hello, a client
creates a study, the worker is assigned trials 1 and 2 and heartbeats,
reports and finishes them, another worker tries them, and the client asks
about the study. spec/ and report/ get study files and report lines.
"""
import glob
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
BIN = os.environ.get("HPO_BIN") or os.path.join(SRC, "build")
sys.path.insert(0, os.path.join(BIN, "python"))
import hpo_pb2 as pb  # noqa: E402

W0, W1, W2, CLI = 0, 1, 2, 3
SPEC = b"""name: s
command: "true {x} {n} {c}"
objective: {metric: loss, direction: minimize}
sampler: {type: random, seed: 1}
budget: {trials: 4, parallel: 2}
trial: {retries: 1, timeout: 10s, grace: 0}
space:
  x: {type: float, low: 0.001, high: 1, log: true}
  n: {type: int, low: 1, high: 8}
  c: {type: categorical, values: [a, b, 3]}
"""
_seq = [0]


def env(**body):
    _seq[0] += 1
    e = pb.Envelope(version=1, seq=_seq[0])
    (name, msg), = body.items()
    getattr(e, name).CopyFrom(msg)
    return e.SerializeToString()


def lease(t, a):
    return pb.Lease(trial_id=t, attempt=a)


def hello(name, slots=2, leases=(), inc=1, started=1):
    return env(hello=pb.Hello(name=name, host="h", slots=slots, pid=42,
                              leases=[lease(*x) for x in leases],
                              incarnation=inc, started_us=started))


def heartbeat(leases=(), free=0):
    return env(heartbeat=pb.Heartbeat(leases=[lease(*x) for x in leases],
                                      free=free))


def report(t, a, step=None, **metrics):
    r = pb.Report(trial_id=t, attempt=a,
                  metrics=[pb.Metric(name=k, value=v)
                           for k, v in metrics.items()])
    if step is not None:
        r.has_step = True
        r.step = step
    return env(report=r)


def finish(t, a, outcome=pb.OUTCOME_COMPLETE, value=None, asks=False,
           free=0):
    f = pb.Finish(trial_id=t, attempt=a, outcome=outcome, reason="r",
                  log_tail="tail\n", exit_status=0, runtime_s=0.5,
                  asks=asks, free=free)
    if value is not None:
        f.has_value = True
        f.value = value
    return env(finish=f)


def goodbye(leases=()):
    return env(goodbye=pb.Goodbye(leases=[lease(*x) for x in leases],
                                  reason="stopping"))


def create(text=SPEC, filename="s.yaml"):
    return env(study_create=pb.StudyCreate(filename=filename,
                                           spec=text.decode()))


def queries():
    return [env(study_show=pb.StudyRef(name="s")),
            env(trials=pb.TrialsQuery(study="s")),
            env(trials=pb.TrialsQuery(study="s", state="COMPLETE", after=1,
                                      limit=1)),
            env(trial_show=pb.TrialRef(study="s", number=1)),
            env(best=pb.StudyRef(name="s")),
            env(workers=pb.WorkersQuery()),
            env(study_list=pb.StudyList())]


def frames(*msgs):
    """fuzz_server.c's framing: peer byte, 2-byte length, frame."""
    out = b""
    for peer, m in msgs:
        out += struct.pack("<BH", peer, len(m)) + m
    return out


def write(dirname, name, data):
    d = os.path.join(HERE, "corpus", dirname)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def write_regression(target, name, data):
    d = os.path.join(HERE, "regressions", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def regressions():
    """Crashes known before any fuzzing found them (issue #10), kept as
    regression inputs like the fuzzers' finds."""
    start = [(W0, hello("w0")), (CLI, create()), (W0, heartbeat(free=2))]
    # A Report carrying NaN: SQLite binds NaN as NULL into a NOT NULL
    # column, the store fails and the coordinator exits.
    write_regression("server", "report_nan",
                     frames(*start, (W0, report(1, 1, step=0,
                                                loss=float("nan")))))
    # A Finish with NaN: `hpo best` then says NaN (fuzz_server checks that
    # every double in a reply is finite).
    write_regression("server", "finish_nan_best",
                     frames(*start, (W0, report(2, 1, loss=float("nan"))),
                            (W0, finish(2, 1, value=float("nan"))),
                            (CLI, env(best=pb.StudyRef(name="s")))))
    # libfyaml 0.7.12 dereferences NULL destroying its parser after this
    # study file (fuzz_spec found it): a client's StudyCreate crashed the
    # coordinator.
    write_regression("server", "study_create_libfyaml_segv",
                     frames((CLI, create(b"? e:\t?"))))
    # Invalid UTF-8 echoed in Error.message, which python-protobuf refuses.
    e = pb.Envelope(version=1, seq=99)
    e.study_show.name = "PH01"
    write_regression("server", "error_echoes_invalid_utf8",
                     frames((CLI, e.SerializeToString().replace(
                         b"PH01", b"\xc3\x28\xff\xfe"))))


ASKTELL = b"""name: a
objective: {metric: loss}
pruner: {type: median, n_startup_trials: 1}
budget: {trials: 4, parallel: 2}
space:
  x: {type: float, low: -1, high: 1, step: 0.5}
  c: {type: categorical, values: [a, b, 3]}
"""


def asktell():
    """hpo ask, tell, report and enqueue (issue #7): a study without a
    command driven by a client, and the same requests on a study that
    workers run."""
    def tell(n, state="", value=None):
        t = pb.Tell(study="a", number=n, state=state)
        if value is not None:
            t.has_value = True
            t.value = value
        return env(tell=t)

    def creport(n, step, **metrics):
        return env(client_report=pb.ClientReport(
            study="a", number=n, step=step,
            metrics=[pb.Metric(name=k, value=v) for k, v in metrics.items()]))

    def enqueue(*words, study="a"):
        return env(enqueue=pb.Enqueue(study=study, params=list(words)))

    ask = env(ask=pb.StudyRef(name="a"))
    msgs = [(CLI, create(ASKTELL, "a.yaml")),
            (CLI, enqueue("x=0.5", "c=3")), (CLI, enqueue("c=b")),
            (CLI, enqueue("x=0.3")), (CLI, enqueue("y=1", "x=1")),
            (CLI, ask), (CLI, ask), (CLI, ask),
            (CLI, creport(0, 0, loss=1.0)), (CLI, creport(0, 1, loss=0.5)),
            (CLI, tell(0, value=-0.5)), (CLI, tell(0, value=1.0)),
            (CLI, creport(1, 0, loss=9.0)), (CLI, tell(1, "PRUNED")),
            (CLI, ask), (CLI, tell(2, "failed")), (CLI, tell(3, "BOGUS")),
            (CLI, tell(99, value=1.0)), (CLI, ask)]
    write("server", "asktell", frames(*msgs))
    start = [(W0, hello("w0")), (CLI, create()), (W0, heartbeat(free=1))]
    write("server", "asktell_workers", frames(*start, (
        CLI, enqueue("x=0.5", "n=2", study="s")),
        (CLI, env(ask=pb.StudyRef(name="s"))),
        (CLI, env(tell=pb.Tell(study="s", number=0, has_value=True,
                               value=1.0))),
        (W0, heartbeat([(1, 1)], free=1))))
    write("wire", "ask", ask)
    write("wire", "tell", tell(1, "COMPLETE", -301.5))
    write("wire", "client_report", creport(1, 3, loss=0.25))
    write("wire", "enqueue", enqueue("x=0.5", "c=a"))
    write("wire", "report_answer", env(report_answer=pb.ReportAnswer(
        prune=True, message="m")))


def main():
    start = [(W0, hello("w0")), (CLI, create()),
             (W0, heartbeat(free=2)),      # assigned trials 1 and 2
             (W0, heartbeat([(1, 1), (2, 1)], free=0))]
    conversations = {
        "hello": [(W0, hello("w0"))],
        "create": [(CLI, create())],
        "lifecycle": start + [
            (W0, report(1, 1, step=0, loss=0.5, acc=0.1)),
            (W0, report(1, 1, step=1, loss=0.4)),
            (W0, report(1, 1, loss=0.3)),
            (W0, finish(1, 1, value=0.3, asks=True, free=1)),
            (W0, finish(2, 1, outcome=pb.OUTCOME_FAILED)),
            (W0, heartbeat([(3, 1)], free=2))] + [(CLI, q)
                                                  for q in queries()],
        "fenced": start + [
            (W1, hello("w1")),
            (W1, report(1, 1, step=0, loss=0.5)),
            (W1, finish(1, 1, value=0.1)),
            (W0, report(1, 2, step=0, loss=0.5)),
            (W0, finish(2, 7, value=0.1)),
            (W0, finish(99, 1, value=0.1))],
        "restart_hello": start + [
            (W0, hello("w0", leases=[(1, 1), (2, 1), (5, 3)], inc=2,
                       started=2)),
            (W1, hello("w0", inc=3, started=3)),
            (W0, heartbeat([(1, 1)], free=1))],
        "pruned_goodbye": start + [
            (W0, finish(1, 1, outcome=pb.OUTCOME_PRUNED)),
            (W0, finish(2, 1, outcome=pb.OUTCOME_KILLED)),
            (W0, goodbye([(3, 1)])),
            (CLI, env(study_stop=pb.StudyStop(name="s")))],
        "cli": [(CLI, q) for q in queries()] + [
            (CLI, create(b'{"name": "j"}', "j.json")),
            (CLI, env(study_stop=pb.StudyStop(name="nope")))],
    }
    for name, msgs in conversations.items():
        write("server", name, frames(*msgs))
    singles = {
        "hello": hello("w0", leases=[(1, 1)]),
        "heartbeat": heartbeat([(1, 1), (2, 3)], free=1),
        "report": report(1, 1, step=3, loss=0.25, acc=0.9),
        "finish": finish(1, 1, value=0.25, asks=True, free=1),
        "goodbye": goodbye([(1, 1)]),
        "create": create(),
        "trials": env(trials=pb.TrialsQuery(study="s", after=2, limit=5)),
        "assign": env(assign=pb.Assign(
            trial_id=1, attempt=1, study="s", number=1, command="c",
            params=[pb.Param(name="x", kind=1, f=0.5),
                    pb.Param(name="n", kind=2, i=3),
                    pb.Param(name="c", kind=3, s="a")],
            objective="loss", timeout_ms=1000, grace_ms=0)),
        "error": env(error=pb.Error(code=pb.ERR_INVALID, message="m")),
        "welcome": env(welcome=pb.Welcome(heartbeat_ms=1, lease_ms=2,
                                          refused=[lease(1, 1)])),
        "kill": env(kill=pb.Kill(trial_id=1, attempt=1, reason="r")),
    }
    for name, data in singles.items():
        write("wire", name, data)
    # Study files: a first byte of 0 parses as YAML, 1 as JSON.
    for path in sorted(glob.glob(os.path.join(SRC, "tests", "data", "spec",
                                              "*"))
                       + glob.glob(os.path.join(SRC, "examples", "*.yaml"))):
        mode = b"\1" if path.endswith(".json") else b"\0"
        base = os.path.basename(os.path.dirname(path)) + "_" + \
            os.path.basename(path)
        write("spec", base, mode + open(path, "rb").read())
    write("spec", "seed_study.yaml", b"\0" + SPEC)
    # Report streams: a first byte of read-size seed, then lines.
    write("report", "plain", b"\7step=3 val_loss=0.41 acc=0.88\n")
    write("report", "json", b'\3{"step": 3.0, "val/loss": 0.41}\n')
    write("report", "mixed",
          b"\x11loss=1\r\n\n\tstep=0\tl.a:b/c-d=1e-3\n"
          b'{"loss": -0}\nbad line\nloss=nan\nstep=-1 loss=1\nend')
    write("report", "long_line", b"\xf1loss=1 ")
    regressions()
    asktell()


if __name__ == "__main__":
    main()
