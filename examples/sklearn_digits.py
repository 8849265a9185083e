#!/usr/bin/python3
"""A real training program: a linear classifier (scikit-learn's
SGDClassifier, logistic loss) on the digits data scikit-learn ships, one
step per epoch. Debian packages only: python3-sklearn.

Each epoch makes --passes passes of partial_fit over the training set,
then reports val_loss (log loss) and val_acc on a held-out 30%, and the
CPU seconds the program has used so far (cpu_s, from os.times, imports
included), so a study's total CPU is the sum of its trials' last cpu_s.
It checkpoints the model after every epoch in hpo.checkpoint_dir(), so an
attempt that was lost resumes where it stopped; a pruned trial (SIGTERM)
leaves at its next report.

By hand:  python3 examples/sklearn_digits.py --alpha 1e-4 --eta0 0.01
Tuned:    hpo study create examples/sklearn_digits.yaml               """
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import hpo  # noqa: E402


def cpu_seconds():
    t = os.times()
    return t.user + t.system


def settings():
    """The study's fixed settings (--epochs, --passes...) from the command
    line, under the trial's parameters: under a worker hpo.params() reads
    only the parameters file, which holds only the space's parameters."""
    p = hpo.params(sys.argv[1:])
    p.update(hpo.params())
    return p


def main():
    p = settings()
    alpha = float(p.get("alpha", 1e-4))
    eta0 = float(p.get("eta0", 0.01))
    epochs = int(p.get("epochs", 40))
    passes = int(p.get("passes", 5))
    seed = int(p.get("seed", 0))

    warnings.filterwarnings("ignore")
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(X, y, test_size=0.3,
                                              random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_va = scaler.transform(x_tr), scaler.transform(x_va)
    classes = np.unique(y)

    ckpt = os.path.join(hpo.checkpoint_dir(), "model.pkl")
    start, clf = 0, None
    if os.path.exists(ckpt):
        with open(ckpt, "rb") as f:
            start, clf = pickle.load(f)
    if clf is None:
        clf = SGDClassifier(loss="log_loss", alpha=alpha,
                            learning_rate="constant", eta0=eta0,
                            random_state=seed)
    rng = np.random.default_rng(seed)
    try:
        for epoch in range(start, epochs):
            for _ in range(passes):
                order = rng.permutation(len(y_tr))
                clf.partial_fit(x_tr[order], y_tr[order], classes=classes)
            proba = np.clip(clf.predict_proba(x_va), 1e-12, 1.0)
            val_loss = log_loss(y_va, proba, labels=classes)
            val_acc = accuracy_score(y_va, clf.predict(x_va))
            tmp = ckpt + ".tmp"
            with open(tmp, "wb") as f:
                pickle.dump((epoch + 1, clf), f)
            os.replace(tmp, ckpt)
            hpo.report(epoch, val_loss=val_loss, val_acc=val_acc,
                       cpu_s=cpu_seconds())
    except hpo.Pruned:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
