"""textbook_utils.lessons.mlp.MLP and textbook_utils.training.loop (fit and its pieces)."""

import math

import numpy as np
import pytest
import torch

from textbook_utils.tools.data import load_mnist
from textbook_utils.training import loop as training
from textbook_utils.lessons.mlp import MLP
from textbook_utils.lessons.scratch import Network
from textbook_utils.tools.seeding import seed_everything
from textbook_utils.training.loop import (accuracy, cosine, fit, loss_function,
                                          make_optimizer, minibatches)


@pytest.fixture(scope="module")
def mnist():
    X, y = load_mnist("train")
    Xt, yt = load_mnist("test")
    return (X[:6000], y[:6000]), (Xt[:1000], yt[:1000])


def test_mlp_has_the_video_shapes_and_13002_parameters():
    model = MLP([784, 16, 16, 10])
    assert [tuple(layer.weight.shape) for layer in model.layers] == [(16, 784), (16, 16), (10, 16)]
    assert model.num_params == 13_002
    assert model(torch.zeros(3, 784)).shape == (3, 10)
    assert model(torch.zeros(3, 28, 28)).shape == (3, 10)  # images are flattened


def test_mlp_from_scratch_computes_the_same_function():
    net = Network([12, 7, 5, 3], seed=2)
    model = MLP.from_scratch(net)
    x = np.random.default_rng(0).random((12, 4))  # 4 examples as columns
    z = model(torch.tensor(x.T))  # rows for torch
    np.testing.assert_allclose(torch.sigmoid(z).detach().numpy().T, net.feedforward(x), rtol=1e-12)


@pytest.mark.parametrize("activation, expected", [
    ("relu", 0.0),                      # max(0, -5)
    ("sigmoid", 1 / (1 + np.exp(5.0))),  # sigma(-5)
    ("tanh", np.tanh(-5.0)),
])
def test_mlp_activation_is_applied_between_layers(activation, expected):
    model = MLP([1, 1, 1], activation=activation)
    with torch.no_grad():
        model.layers[0].weight.fill_(1.0)
        model.layers[0].bias.fill_(-5.0)
        model.layers[1].weight.fill_(1.0)
        model.layers[1].bias.fill_(0.0)
        # hidden weighted input -5 -> hidden activation sigma(-5); the output
        # layer adds nothing (weight 1, bias 0) and applies no activation
        out = model(torch.zeros(1, 1)).item()
    assert out == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_bad_mlp_arguments():
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP([4, 2], activation="swish")
    with pytest.raises(ValueError, match="positive"):
        MLP([4, 0, 2])
    with pytest.raises(ValueError):
        MLP([4])
    with pytest.raises(TypeError):
        MLP("784-10")
    with pytest.raises(ValueError, match="dropout must be a probability"):
        MLP([4, 2], dropout=1.0)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):  # PyTorch's own message
        MLP([4, 2])(torch.zeros(3, 5))


def test_quadratic_loss_is_half_the_squared_distance_to_one_hot():
    z = torch.tensor([[0.0, 2.0, -1.0]])
    a = torch.sigmoid(z)[0]
    expected = 0.5 * ((a[0]) ** 2 + (a[1] - 1) ** 2 + a[2] ** 2)
    assert loss_function("quadratic")(z, torch.tensor([1])).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="loss must be one of"):
        loss_function("hinge")


def _correct_fraction(model, X, y):
    """Accuracy computed here, not by training.accuracy: argmax of the logits against the labels."""
    with torch.no_grad():
        z = model(torch.as_tensor(X))
    return float((z.argmax(dim=1).numpy() == np.asarray(y)).mean())


@pytest.mark.parametrize("optimizer, loss, lr", [("sgd", "cross_entropy", 3.0), ("adam", "quadratic", 1e-2)])
def test_fit_reduces_the_loss_on_mnist_in_a_few_steps(mnist, optimizer, loss, lr):
    train, test = mnist
    seed_everything(0)
    model = MLP([784, 16, 16, 10])
    X, y = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    with torch.no_grad():
        before = loss_function(loss)(model(X), y).item()
    history = fit(model, train, test, epochs=1, batch_size=100, lr=lr, optimizer=optimizer, loss=loss,
                  max_steps=40)
    with torch.no_grad():
        after = loss_function(loss)(model(X), y).item()
    assert history["steps"] == [40]
    assert after < 0.8 * before
    assert history["test_accuracy"][0] > 0.15  # chance is 0.1
    assert set(history) >= {"epoch", "loss", "train_accuracy", "test_accuracy", "seconds", "steps", "device"}


def test_fit_reaches_high_accuracy_and_stops_at_the_target(mnist):
    train, test = mnist
    seed_everything(0)
    model = MLP([784, 64, 10], activation="relu")
    history = fit(model, train, test, epochs=10, batch_size=32, lr=1e-3, optimizer="adam",
                  target_accuracy=0.85)
    assert history["test_accuracy"][-1] >= 0.85
    assert len(history["epoch"]) < 10
    assert history["test_accuracy"][-1] == pytest.approx(_correct_fraction(model, *test), abs=1e-12)
    assert history["train_accuracy"][-1] == pytest.approx(_correct_fraction(model, *train), abs=1e-12)


def test_fit_is_repeatable_and_accepts_tensors_images_and_raw_bytes(mnist):
    train, _ = mnist
    small = (train[0][:1000], train[1][:1000])
    images = (small[0].reshape(-1, 28, 28), small[1])
    raw = (np.round(small[0] * 255).astype(np.uint8), small[1])  # load_mnist's floats are bytes / 255
    runs = []
    for data in (small, tuple(torch.from_numpy(a) for a in small), images, raw):
        seed_everything(1)
        model = MLP([784, 8, 10])
        runs.append(fit(model, data, epochs=2, batch_size=50, lr=0.5, seed=3))
        runs[-1]["weights"] = model.layers[0].weight.detach().clone()
    for run in runs[1:]:
        assert run["loss"] == pytest.approx(runs[0]["loss"], rel=1e-6)
        torch.testing.assert_close(run["weights"], runs[0]["weights"], rtol=1e-5, atol=1e-6)
    assert runs[1]["loss"] == runs[0]["loss"]  # numpy or tensor: the very same numbers


def test_minibatches_visit_every_example_once_per_epoch_in_a_seeded_order():
    X = torch.arange(10.0).reshape(10, 1) * 10
    y = torch.arange(10)
    batches = list(minibatches(X, y, 4, torch.Generator().manual_seed(0)))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]  # the last batch is what is left
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))  # shuffled
    assert all(torch.equal(xb[:, 0], 10 * yb.float()) for xb, yb in batches)  # rows stay with labels
    again = torch.cat([yb for _, yb in minibatches(X, y, 4, torch.Generator().manual_seed(0))])
    assert torch.equal(seen, again)


def test_a_full_batch_is_every_example_once_with_its_label():
    X = torch.arange(10.0).reshape(10, 1) * 10
    y = torch.arange(10)
    for batch_size in (10, 64):                       # N, or more than N
        (xb, yb), = minibatches(X, y, batch_size, torch.Generator().manual_seed(0))
        assert sorted(yb.tolist()) == list(range(10))
        assert torch.equal(xb[:, 0], 10 * yb.float())  # rows stay with labels


def test_fit_draws_its_batch_order_from_the_training_seed(mnist, monkeypatch):
    train, _ = mnist
    small = (train[0][:300], train[1][:300])
    orders = []

    def recording_step(model, optimizer, loss_fn, xb, yb):
        orders.append(yb.clone())
        return torch.zeros(())

    monkeypatch.setattr(training, "train_step", recording_step)
    for offset in ("", "", "1"):
        monkeypatch.setenv("TEXTBOOK_SEED_OFFSET", offset)
        fit(MLP([784, 4, 10]), small, epochs=1, batch_size=100, lr=0.1, seed=5)
    orders = [torch.cat(orders[k:k + 3]) for k in (0, 3, 6)]  # the 3 batches of each run
    assert torch.equal(orders[0], orders[1])  # same seed, same order
    assert not torch.equal(orders[0], orders[2])  # the seed offset moves it
    expected = torch.from_numpy(small[1])[torch.randperm(300, generator=torch.Generator().manual_seed(5))]
    assert torch.equal(orders[0], expected)


def test_fit_takes_one_train_step_per_mini_batch(mnist, monkeypatch):
    train, test = mnist
    small = (train[0][:250], train[1][:250])
    sizes, real_step = [], training.train_step

    def counting_step(model, optimizer, loss_fn, xb, yb):
        sizes.append(len(xb))
        return real_step(model, optimizer, loss_fn, xb, yb)

    monkeypatch.setattr(training, "train_step", counting_step)
    seed_everything(0)
    h = fit(MLP([784, 4, 10]), small, epochs=2, batch_size=100, lr=0.1)
    assert sizes == [100, 100, 50] * 2 and h["steps"] == [3, 6]


def test_fit_follows_the_cosine_schedule_step_by_step(mnist, monkeypatch):
    train, _ = mnist
    seen = []
    real_step = training.train_step

    def recording_step(model, optimizer, *args, **kwargs):
        seen.append(optimizer.param_groups[0]["lr"])  # the rate this step is taken with
        return real_step(model, optimizer, *args, **kwargs)

    monkeypatch.setattr(training, "train_step", recording_step)
    small = (train[0][:500], train[1][:500])
    fit(MLP([784, 4, 10]), small, epochs=2, batch_size=100, lr=0.2, schedule="cosine")
    T = 10  # 2 epochs of 5 steps
    assert seen == pytest.approx([0.2 * 0.5 * (1 + math.cos(math.pi * t / T)) for t in range(T)], rel=1e-12)
    assert cosine(0.2, 0, T) == 0.2 and cosine(0.2, T, T) == pytest.approx(0.0, abs=1e-17)
    seen.clear()
    fit(MLP([784, 4, 10]), small, epochs=1, batch_size=100, lr=0.2)
    assert seen == [0.2] * 5  # no schedule: the rate stays put


def test_sgd_step_is_w_minus_eta_times_the_gradient():
    torch.manual_seed(0)
    model = MLP([5, 3, 2]).double()
    X, y = torch.rand(8, 5, dtype=torch.float64), torch.randint(0, 2, (8,))
    before = [p.detach().clone() for p in model.parameters()]
    loss_function("cross_entropy")(model(X), y).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    fit(model, (X, y), epochs=1, batch_size=8, lr=0.7, optimizer="sgd")  # one full-batch step
    for p, w, g in zip(model.parameters(), before, grads):
        torch.testing.assert_close(p.detach(), w - 0.7 * g, rtol=1e-12, atol=1e-12)


def test_fit_rejects_bad_arguments_before_training(mnist):
    train, test = mnist
    model = MLP([784, 4, 10])
    start = [p.detach().clone() for p in model.parameters()]
    ok = dict(epochs=1, batch_size=10, lr=0.1)
    X, y = train
    X_nan, X_inf = X[:20].copy(), X[:20].copy()
    X_nan[3, 5], X_inf[0, 0] = np.nan, np.inf
    cases = [
        (dict(optimizer="rmsprop"), ValueError, "optimizer must be one of"),
        (dict(loss="mse"), ValueError, "loss must be one of"),
        (dict(epochs=0), ValueError, "epochs must be a positive integer"),
        (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
        (dict(batch_size=-5), ValueError, "batch_size must be a positive integer"),
        (dict(batch_size=2.5), ValueError, "batch_size must be a positive integer"),
        (dict(max_steps=0), ValueError, "max_steps must be a positive integer"),
        (dict(lr=0), ValueError, "lr .*finite number > 0"),
        (dict(lr=-0.1), ValueError, "lr .*finite number > 0"),
        (dict(lr=float("inf")), ValueError, "lr .*finite number > 0"),
        (dict(lr=float("nan")), ValueError, "lr .*finite number > 0"),
        (dict(lr="0.1"), ValueError, "lr .*finite number > 0"),
        (dict(momentum=1.0), ValueError, "momentum"),
        (dict(optimizer="adam", momentum=0.9), ValueError, "Adam has its own"),
        (dict(weight_decay=-1e-3), ValueError, "weight_decay"),
        (dict(schedule="linear"), ValueError, "schedule must be one of"),
        (dict(target_accuracy=96), ValueError, "fraction"),
    ]
    for overrides, error, match in cases:
        with pytest.raises(error, match=match):
            fit(model, train, test, **{**ok, **overrides})
    data_cases = [
        (X, TypeError, "pair"),
        ((X[:20], y[:20], y[:20]), TypeError, "pair"),
        ((X_nan, y[:20]), ValueError, "1 entries that are NaN or infinite"),
        ((X_inf, y[:20]), ValueError, "NaN or infinite"),
        ((X[:, :100], y), ValueError, "expects 784"),
        ((X[:0], y[:0]), ValueError, "non-empty"),
        ((X[:20].astype(str), y[:20]), ValueError, "numbers"),
        ((X[:20], y[:20].astype(np.float32)), ValueError, "integer labels"),
        ((X[:20], y[:19]), ValueError, "20 integer labels"),
        ((X[:3], np.array([0, 1, 10])), ValueError, r"labels must lie in 0..9"),
        ((X[:3], np.array([0, -1, 1])), ValueError, r"labels must lie in 0..9"),
        ((X[:20] * 255, y[:20]), ValueError, "whole numbers from 0 to 255, raw 0-255 pixels"),
        ((np.round(X[:20] * 255).astype(np.float64), y[:20]), ValueError, "divide by 255"),
    ]
    for data, error, match in data_cases:
        with pytest.raises(error, match=match):
            fit(model, data, **ok)
    with pytest.raises(ValueError, match="test images X has 1 entries that are NaN"):
        fit(model, train, (X_nan, y[:20]), **ok)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fit(Network([784, 10]), train, **ok)
    with pytest.raises(ValueError, match="needs test data"):
        fit(model, train, target_accuracy=0.9, **ok)
    for p, q in zip(model.parameters(), start):
        assert torch.equal(p, q)  # nothing was trained by any of these calls


def test_dropout_acts_only_in_training_mode():
    torch.manual_seed(0)
    model = MLP([20, 50, 3], activation="relu", dropout=0.5)
    x = torch.rand(4, 20)
    model.train()
    assert not torch.equal(model(x), model(x))  # a different half of the neurons each time
    model.eval()
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_the_fused_optimiser_takes_the_same_steps_as_the_plain_one(name):
    torch.manual_seed(0)
    models = [MLP([30, 8, 5], activation="relu").double() for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    fused = make_optimizer(name, models[0].parameters(), 0.05, weight_decay=1e-3)
    plain_cls = torch.optim.SGD if name == "sgd" else torch.optim.Adam
    plain = plain_cls(models[1].parameters(), lr=0.05, weight_decay=1e-3, foreach=False)
    assert fused.defaults["fused"] is True  # all parameters on the CPU: one kernel for all of them
    x, y = torch.rand(64, 30, dtype=torch.float64), torch.randint(0, 5, (64,))
    for _ in range(5):
        for model, opt in zip(models, (fused, plain)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_fit_stops_with_an_error_when_training_diverges(mnist):
    """lr = 1e308 (the probe of issue 25) sends the weights to infinity and the cost to NaN: fit
    raises, naming the cost, the epoch, the step and lr, after one epoch."""
    train, _ = mnist
    small = (train[0][:200], train[1][:200])
    torch.manual_seed(0)
    with pytest.raises(FloatingPointError,
                       match=r"diverged: mean cost nan in epoch 0 \(after step 2\) with lr = 1e\+308;"):
        fit(MLP([784, 8, 10]), small, epochs=3, batch_size=100, lr=1e308)
    h = fit(MLP([784, 8, 10]), small, epochs=1, batch_size=100, lr=0.1)  # a sane lr: fine
    assert np.isfinite(h["loss"]).all()


def test_fit_takes_standardised_inputs_beyond_one():
    """Only whole numbers 0..255 as floats are refused; standardised pixels
    (negative, above 1) and scaled ones are fine."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 6)).astype(np.float32) * 2   # -ish..+ish, beyond 1
    y = rng.integers(0, 3, 50)
    fit(MLP([6, 4, 3]), (X, y), epochs=1, batch_size=10, lr=0.1)
    fit(MLP([6, 4, 3]), (np.abs(X) * 3, y), epochs=1, batch_size=10, lr=0.1)  # >= 0, > 1, not whole
