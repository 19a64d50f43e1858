"""textbook_utils.models.MLP and textbook_utils.training.fit."""

import numpy as np
import pytest
import torch

from textbook_utils.data import load_mnist
from textbook_utils.seeding import seed_everything
from textbook_utils.models import MLP
from textbook_utils.scratch import Network
from textbook_utils.training import accuracy, fit, loss_function


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
    with pytest.raises(ValueError, match="positive integer"):
        MLP([4, 0, 2])
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([4])
    with pytest.raises(TypeError, match="list of layer sizes"):
        MLP("784-10")
    with pytest.raises(ValueError, match=r"expected \(B, 4\)"):
        MLP([4, 2])(torch.zeros(3, 5))


def test_quadratic_loss_is_half_the_squared_distance_to_one_hot():
    z = torch.tensor([[0.0, 2.0, -1.0]])
    a = torch.sigmoid(z)[0]
    expected = 0.5 * ((a[0]) ** 2 + (a[1] - 1) ** 2 + a[2] ** 2)
    assert loss_function("quadratic")(z, torch.tensor([1])).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="loss must be one of"):
        loss_function("hinge")


@pytest.mark.parametrize("optimizer, loss, lr", [("sgd", "cross_entropy", 3.0), ("adam", "quadratic", 1e-2)])
def test_fit_reduces_the_loss_on_mnist_in_a_few_steps(mnist, optimizer, loss, lr):
    train, test = mnist
    seed_everything(0)
    model = MLP([784, 16, 16, 10])
    X, y = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    with torch.no_grad():
        before = loss_function(loss)(model(X), y).item()
    history = fit(model, train, test, epochs=1, batch_size=100, lr=lr, optimizer=optimizer, loss=loss,
                  device="cpu", progress=False, max_steps=40)
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
                  device="cpu", progress=False, target_accuracy=0.85, cpu_threads=1)
    assert history["test_accuracy"][-1] >= 0.85
    assert len(history["epoch"]) < 10
    assert history["test_accuracy"][-1] == pytest.approx(
        accuracy(model, torch.from_numpy(test[0]), torch.from_numpy(test[1])))


def test_fit_is_repeatable_and_accepts_tensors(mnist):
    train, _ = mnist
    small = (train[0][:1000], train[1][:1000])
    runs = []
    for data in (small, tuple(torch.from_numpy(a) for a in small)):
        seed_everything(1)
        model = MLP([784, 8, 10])
        runs.append(fit(model, data, epochs=2, batch_size=50, lr=0.5, device="cpu", progress=False, seed=3))
        runs[-1]["weights"] = model.layers[0].weight.detach().clone()
    assert runs[0]["loss"] == runs[1]["loss"]
    assert torch.equal(runs[0]["weights"], runs[1]["weights"])


def test_fit_progress_bar_can_be_turned_off(mnist, capsys):
    train, _ = mnist
    small = (train[0][:200], train[1][:200])
    fit(MLP([784, 4, 10]), small, epochs=1, batch_size=50, lr=0.1, device="cpu", progress=False)
    assert capsys.readouterr().err == ""
    fit(MLP([784, 4, 10]), small, epochs=1, batch_size=50, lr=0.1, device="cpu", progress=True)
    assert "training" in capsys.readouterr().err


def test_fit_restores_the_thread_count(mnist):
    train, _ = mnist
    before = torch.get_num_threads()
    fit(MLP([784, 4, 10]), (train[0][:100], train[1][:100]), epochs=1, batch_size=50, lr=0.1,
        device="cpu", progress=False, cpu_threads=1)
    assert torch.get_num_threads() == before


def test_fit_rejects_bad_arguments(mnist):
    train, test = mnist
    model = MLP([784, 4, 10])
    ok = dict(epochs=1, batch_size=10, lr=0.1, device="cpu", progress=False)
    X, y = train
    cases = [
        (dict(optimizer="rmsprop"), ValueError, "optimizer must be one of"),
        (dict(loss="mse"), ValueError, "loss must be one of"),
        (dict(epochs=0), ValueError, "epochs must be a positive integer"),
        (dict(batch_size=-5), ValueError, "batch_size must be a positive integer"),
        (dict(lr=0), ValueError, "lr"),
        (dict(amp=True), ValueError, "needs a CUDA device"),
        (dict(progress="yes"), ValueError, "progress must be"),
        (dict(device="tpu"), ValueError, "unknown device"),
        (dict(target_accuracy=96), ValueError, "fraction"),
    ]
    for overrides, error, match in cases:
        with pytest.raises(error, match=match):
            fit(model, train, test, **{**ok, **overrides})
    with pytest.raises(TypeError, match="tuple"):
        fit(model, X, **ok)
    with pytest.raises(ValueError, match="expects 784"):
        fit(model, (X[:, :100], y), **ok)
    with pytest.raises(ValueError, match="integer labels"):
        fit(model, (X, y.astype(np.float32)), **ok)
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        fit(model, (X[:3], np.array([0, 1, 10])), **ok)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fit(Network([784, 10]), train, **ok)
    with pytest.raises(ValueError, match="needs test data"):
        fit(model, train, target_accuracy=0.9, **ok)


def test_dropout_acts_only_in_training_mode():
    torch.manual_seed(0)
    model = MLP([20, 50, 3], activation="relu", dropout=0.5)
    x = torch.rand(4, 20)
    model.train()
    assert not torch.equal(model(x), model(x))  # a different half of the neurons each time
    model.eval()
    assert torch.equal(model(x), model(x))
    with pytest.raises(ValueError, match="dropout must be a probability"):
        MLP([4, 2], dropout=1.0)


def test_fit_follows_the_cosine_schedule_step_by_step(mnist, monkeypatch):
    import math

    from textbook_utils import training

    train, _ = mnist
    seen = []
    real_step = training.train_step

    def recording_step(model, optimizer, *args, **kwargs):
        seen.append(optimizer.param_groups[0]["lr"])  # the rate this step is taken with
        return real_step(model, optimizer, *args, **kwargs)

    monkeypatch.setattr(training, "train_step", recording_step)
    small = (train[0][:500], train[1][:500])
    fit(MLP([784, 4, 10]), small, epochs=2, batch_size=100, lr=0.2, device="cpu", progress=False, schedule="cosine")
    T = 10  # 2 epochs of 5 steps
    assert seen == pytest.approx([0.2 * 0.5 * (1 + math.cos(math.pi * t / T)) for t in range(T)], rel=1e-12)
    seen.clear()
    fit(MLP([784, 4, 10]), small, epochs=1, batch_size=100, lr=0.2, device="cpu", progress=False)
    assert seen == [0.2] * 5  # no schedule: the rate stays put


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_the_fused_optimiser_takes_the_same_steps_as_the_plain_one(name):
    from textbook_utils.training import make_optimizer

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
