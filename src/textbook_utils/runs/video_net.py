"""The video's 784-16-16-10 network and the recipes that train it: the video's, and the book's.

Chapter "Gradient descent" (``book/3b1b/02_gradient_descent.ipynb``) trains
the network first with :data:`VIDEO_RECIPE` — sigmoid neurons, the quadratic
cost, plain stochastic gradient descent on pixels in [0, 1], as in the video
and in Nielsen's chapter 1 — and then changes one thing at a time, each where
the chapter explains it, until it reaches :data:`BOOK_RECIPE`:

- softmax cross-entropy instead of the quadratic cost;
- ReLU instead of the sigmoid in the hidden layers;
- inputs standardised with the training set's statistics
  (:class:`textbook_utils.lessons.preprocessing.Standardizer`);
- Adam instead of plain stochastic gradient descent;
- a cosine learning-rate schedule and a little weight decay.

``bench/bench_fit.py`` times :data:`BOOK_RECIPE` to 96% test accuracy.
:data:`ABLATION` lists the chapter's steps from one recipe to the other; the
chapter reads their results (too long to train live) from a file this
module's command line writes::

    python -m textbook_utils.runs.video_net --seeds 0 1 \
        --out book/3b1b/results/02_ablation.json --overwrite

(``--overwrite`` replaces the committed file; without it the command refuses.)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import platform
import sys

import torch

from textbook_utils.tools import cli
from textbook_utils.tools.data import load_mnist
from textbook_utils.tools.device import pick_device
from textbook_utils.lessons.mlp import MLP
from textbook_utils.lessons.preprocessing import Standardizer
from textbook_utils.tools.seeding import seed_everything
from textbook_utils.training.loop import fit

__all__ = ["ABLATION", "BOOK_RECIPE", "Recipe", "ablation", "main", "VIDEO_NET_SIZES", "VIDEO_RECIPE", "train_video_net"]

VIDEO_NET_SIZES = [784, 16, 16, 10]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to train the video's network: the neurons, the inputs, and :func:`fit`'s settings."""

    activation: str             # the hidden neurons' sigma
    standardize: bool           # inputs centred and scaled, or pixels in [0, 1]
    loss: str                   # "quadratic" or "cross_entropy"
    optimizer: str              # "sgd" or "adam"
    lr: float                   # the learning rate eta (at the start)
    batch_size: int
    epochs: int
    schedule: str | None = None
    weight_decay: float = 0.0

    def fit_settings(self) -> dict:
        """The keyword arguments of :func:`textbook_utils.training.loop.fit`."""
        settings = dataclasses.asdict(self)
        del settings["activation"], settings["standardize"]
        return settings

    def __str__(self) -> str:
        return "\n".join(f"{name:>12}: {value}" for name, value in dataclasses.asdict(self).items())

    def changed(self, **changes) -> "Recipe":
        """This recipe with ``changes``, e.g. ``recipe.changed(loss="cross_entropy")``."""
        return dataclasses.replace(self, **changes)


#: Sigmoid neurons, the quadratic cost, plain stochastic gradient descent on pixels in [0, 1]:
#: the video's (and Nielsen's chapter 1) recipe, in batches of 256 with the step size that
#: suits that batch (Nielsen takes batches of 10 with eta = 3).
VIDEO_RECIPE = Recipe(activation="sigmoid", standardize=False, loss="quadratic", optimizer="sgd",
                      lr=10.0, batch_size=256, epochs=8)

#: The book's recipe: every change of the chapter made. Over five seeds on a quiet CPU it
#: reaches 96% test accuracy after 6 to 8 epochs (bench/bench_fit.py).
BOOK_RECIPE = Recipe(activation="relu", standardize=True, loss="cross_entropy", optimizer="adam",
                     lr=0.02, batch_size=256, epochs=8, schedule="cosine", weight_decay=2e-3)


def train_video_net(train, test, recipe: Recipe = BOOK_RECIPE, *, seed: int = 0,
                    target_accuracy: float | None = None, eval_train: bool = True, device=None):
    """Build the video's network from ``seed`` and train it with ``recipe``.

    ``train`` and ``test`` are ``(X, y)`` as from ``load_mnist``: pixels in
    [0, 1]. With ``recipe.standardize`` the statistics are the training
    images'. ``target_accuracy`` stops training after the first epoch whose
    test accuracy reaches it (how the benchmark times "time to 96%").
    ``device`` is where it trains (default: :func:`pick_device`'s choice).

    Returns ``(model, standardize, history)``: the trained ``MLP``, the
    function every later input must go through (a :class:`Standardizer`, or
    ``None`` for raw pixels), and the history from :func:`fit`.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe such as BOOK_RECIPE, got {type(recipe).__name__}")
    (X_train, y_train), (X_test, y_test) = train, test
    standardize = Standardizer(X_train) if recipe.standardize else None
    if standardize is not None:
        X_train, X_test = standardize(X_train), standardize(X_test)
    seed_everything(seed)
    model = MLP(VIDEO_NET_SIZES, activation=recipe.activation).to(pick_device(device))
    history = fit(model, (X_train, y_train), (X_test, y_test), seed=seed, target_accuracy=target_accuracy,
                  eval_train=eval_train, **recipe.fit_settings())
    return model, standardize, history


#: The chapter's steps from the video's recipe to the book's, one change at a time.
ABLATION = {"the video's recipe": VIDEO_RECIPE}
ABLATION["+ cross-entropy"] = VIDEO_RECIPE.changed(loss="cross_entropy", lr=1.0)
ABLATION["+ ReLU"] = ABLATION["+ cross-entropy"].changed(activation="relu", lr=0.3)
ABLATION["+ standardised inputs"] = ABLATION["+ ReLU"].changed(standardize=True)
ABLATION["+ Adam"] = ABLATION["+ standardised inputs"].changed(optimizer="adam", lr=3e-3)
ABLATION["+ cosine schedule"] = ABLATION["+ Adam"].changed(schedule="cosine", lr=0.02)
ABLATION["+ weight decay: the book's recipe"] = ABLATION["+ cosine schedule"].changed(weight_decay=2e-3)
assert ABLATION["+ weight decay: the book's recipe"] == BOOK_RECIPE


def ablation(train, test, seeds) -> dict:
    """Train every recipe of :data:`ABLATION` for every seed; return the test accuracies.

    ``{name: {seed: [test accuracy after epoch 1, 2, ...]}}`` (seeds as strings, as in JSON).
    A recipe whose loss turns NaN or infinite raises FloatingPointError.
    """
    results = {name: {} for name in ABLATION}
    for seed in seeds:
        for name, recipe in ABLATION.items():
            _, _, history = train_video_net(train, test, recipe, seed=seed, eval_train=False)
            if not all(math.isfinite(loss) for loss in history["loss"]):
                raise FloatingPointError(f"{name}, seed {seed}: the loss became {history['loss'][-1]} "
                                         f"(lr {recipe.lr:g})")
            results[name][str(seed)] = history["test_accuracy"]
            print(f"seed {seed}, {name}: {history['test_accuracy'][-1]:.2%}", flush=True)
    return results


def main(argv=None) -> dict:
    """``python -m textbook_utils.runs.video_net --seeds 0 1 --out FILE``: the ablation, as JSON."""
    p = argparse.ArgumentParser(prog="python -m textbook_utils.runs.video_net",
                                description="Train every recipe of the chapter's ablation; write the "
                                            "test accuracies after every epoch as JSON.")
    p.add_argument("--seeds", type=cli.seed, nargs="+", default=[0, 1])
    p.add_argument("--threads", type=cli.threads, default=1,
                   help="CPU threads (default 1: fastest for this net; at most the machine's cores)")
    cli.add_output(p)
    args = cli.parse(p, argv)  # every value, and --out, checked before any work
    torch.set_num_threads(args.threads)
    try:
        results = ablation(load_mnist("train"), load_mnist("test"), args.seeds)
    except FloatingPointError as e:
        sys.exit(f"training diverged: {e}; nothing written")
    record = {"command": "python -m textbook_utils.runs.video_net --seeds "
                         + " ".join(map(str, args.seeds)) + " --out " + args.out.path.as_posix(),
              "torch": torch.__version__, "machine": platform.machine(),
              "recipes": {name: dataclasses.asdict(r) for name, r in ABLATION.items()},
              "test_accuracy": results}
    args.out.save_result(record)
    return record


if __name__ == "__main__":
    main()
