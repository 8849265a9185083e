#!/usr/bin/python3
"""A real training program in PyTorch: a small MLP (one hidden layer,
ReLU, dropout) on the digits data scikit-learn ships, one step per epoch,
on CUDA when torch.cuda.is_available(), else on the CPU. Debian packages
only: python3-torch, python3-sklearn (for the data).

Each epoch makes one pass over the training set in shuffled mini-batches
(SGD with momentum and weight decay), then reports val_loss (mean cross
entropy) and val_acc on a held-out 30%, cpu_s (the CPU seconds the program
has used so far, imports included) and start (the epoch this attempt
started from: 0, or where a checkpoint left off). After every epoch it
saves model, optimizer and random state in hpo.checkpoint_dir(), so an
attempt that was lost resumes where it stopped (bit for bit on the CPU);
a pruned trial (SIGTERM) leaves at its next report.

By hand:  python3 examples/torch_digits.py --lr 0.05 --hidden 64
Tuned:    hpo study create examples/torch_digits.yaml                 """
import math
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import hpo  # noqa: E402


def cpu_seconds():
    t = os.times()
    return t.user + t.system


def load_data(device):
    """The digits, split 70/30 (stratified, fixed seed, as
    sklearn_digits.py), standardized with the training part's statistics,
    as tensors on device."""
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3,
                                              random_state=0, stratify=y)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std[std == 0] = 1  # pixels blank in every training image stay 0

    def tensor(a, kind):
        return torch.as_tensor(a, dtype=kind, device=device)
    return (tensor((x_tr - mean) / std, torch.float32),
            tensor(y_tr, torch.long),
            tensor((x_va - mean) / std, torch.float32),
            tensor(y_va, torch.long))


def settings():
    """The study's fixed settings (--epochs, --passes...) from the command
    line, under the trial's parameters: under a worker hpo.params() reads
    only the parameters file, which holds only the space's parameters."""
    p = hpo.params(sys.argv[1:])
    p.update(hpo.params())
    return p


def main():
    p = settings()
    lr = float(p.get("lr", 0.05))
    hidden = int(p.get("hidden", 64))
    dropout = float(p.get("dropout", 0.1))
    weight_decay = float(p.get("weight_decay", 1e-4))
    batch = int(p.get("batch", 32))
    epochs = int(p.get("epochs", 30))
    seed = int(p.get("seed", 0))

    warnings.filterwarnings("ignore")
    import torch
    from torch import nn

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        # Trials share the host's cores with each other: one thread each.
        torch.set_num_threads(int(p.get("threads", 1)))
    torch.manual_seed(seed)
    x_tr, y_tr, x_va, y_va = load_data(device)
    model = nn.Sequential(nn.Linear(x_tr.shape[1], hidden), nn.ReLU(),
                          nn.Dropout(dropout), nn.Linear(hidden, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9,
                          weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()

    ckpt = os.path.join(hpo.checkpoint_dir(), "model.pt")
    start = 0
    if os.path.exists(ckpt):
        state = torch.load(ckpt, map_location=device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        torch.set_rng_state(state["rng"])
        start = state["epoch"]
    # The shuffling generator lives on the CPU, its state in the
    # checkpoint, so a resumed run draws the batches the lost one would.
    gen = torch.Generator().manual_seed(seed)
    if start:
        gen.set_state(state["gen"])

    try:
        for epoch in range(start, epochs):
            model.train()
            order = torch.randperm(len(y_tr), generator=gen).to(device)
            for k in range(0, len(order), batch):
                idx = order[k:k + batch]
                opt.zero_grad()
                loss_fn(model(x_tr[idx]), y_tr[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                out = model(x_va)
                val_loss = loss_fn(out, y_va).item()
                val_acc = (out.argmax(dim=1) == y_va).float().mean().item()
            tmp = ckpt + ".tmp"
            torch.save({"epoch": epoch + 1, "model": model.state_dict(),
                        "opt": opt.state_dict(),
                        "rng": torch.get_rng_state(),
                        "gen": gen.get_state()}, tmp)
            os.replace(tmp, ckpt)
            # A run that diverged (a learning rate too large) has a loss
            # that is not a number, which hpo.report refuses; its
            # accuracy, the objective, still says how bad it is.
            if not math.isfinite(val_loss):
                hpo.report(epoch, val_acc=val_acc, cpu_s=cpu_seconds(),
                           start=start)
                break
            hpo.report(epoch, val_loss=val_loss, val_acc=val_acc,
                       cpu_s=cpu_seconds(), start=start)
    except hpo.Pruned:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
