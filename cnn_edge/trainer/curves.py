"""The training-curves picture: accuracy and validation accuracy per epoch, as in the seed's plot."""

from __future__ import annotations

from pathlib import Path

from cnn_edge.common.atomic import atomic_path


def plot_training_curves(history: dict[str, list[float]], target: Path, title: str = "") -> Path:
    """Plot accuracy (left) and loss (right) for training and validation; write PNG atomically."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: runs on servers and over SSH
    import matplotlib.pyplot as plt

    epochs = list(range(1, len(history.get("accuracy", [])) + 1))
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, key, label in ((ax_acc, "accuracy", "accuracy"), (ax_loss, "loss", "loss")):
        ax.plot(epochs, history.get(key, []), "o-", label=f"training {label}")
        if history.get(f"val_{key}"):
            ax.plot(epochs, history[f"val_{key}"], "s-", label=f"validation {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
        if epochs:
            ax.set_xticks(epochs)
    if title:
        fig.suptitle(title)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return target
