"""textbook_utils.lessons.optim: Nesterov's method, and momentum -> RMSProp -> Adam as update rules."""

import numpy as np
import pytest
import torch

from textbook_utils.lessons.optim import (SGD, Adam, Momentum, RMSProp,
                                          descend, gradient_descent,
                                          heavy_ball, heavy_ball_parameters,
                                          heavy_ball_rate, iteration_rate,
                                          measured_rate, model_problem,
                                          nesterov, nesterov_parameters,
                                          nesterov_rate, steepest_descent_rate,
                                          strang_start)


def _companion_radius(lam, c_of_lam):
    """Spectral radius of the 2x2 companion matrix [[c, -c0], [1, 0]], an independent route."""
    c, c0 = c_of_lam(lam)
    return np.max(np.abs(np.linalg.eigvals([[c, -c0], [1.0, 0.0]])))


@pytest.mark.parametrize("b", [0.1, 0.01, 0.001])
def test_nesterov_rate_is_what_runs_show(b):
    q = model_problem(b)
    s, beta = nesterov_parameters(b, 1.0)
    theory = 1 - 2 / np.sqrt(3 / b + 1)  # Lessard, Recht and Packard (2016), Prop. 1
    stop = int(np.ceil(200 / -np.log(theory)))  # the error falls by about e^200
    path = nesterov(q.grad, strang_start(b), s, beta, stop)
    rate = measured_rate(np.linalg.norm(path, axis=1), stop // 2, stop)
    assert nesterov_rate(b, 1.0) == pytest.approx(theory)
    assert theory <= rate < theory + 0.01  # critical damping adds a slowly fading (k+1) factor
    # it beats steepest descent and loses to the heavy ball on a quadratic
    assert heavy_ball_rate(b, 1.0) < theory < steepest_descent_rate(b, 1.0)


@pytest.mark.parametrize("b", [0.1, 0.01])
def test_nesterov_parameters_are_the_best_on_a_grid(b):
    lams = np.linspace(b, 1.0, 41)
    s0, beta0 = nesterov_parameters(b, 1.0)

    def worst(s, beta):
        c = lambda lam: ((1 + beta) * (1 - s * lam), beta * (1 - s * lam))
        return max(_companion_radius(lam, c) for lam in lams)

    best = worst(s0, beta0)
    assert best == pytest.approx(iteration_rate(lams, s0, beta0, nesterov=True))
    assert best == pytest.approx(nesterov_rate(b, 1.0), rel=1e-6)
    for s in np.linspace(0.8 * s0, 1.2 * s0, 9):
        for beta in np.linspace(0.8 * beta0, min(0.999, 1.2 * beta0), 9):
            assert worst(s, beta) >= best - 1e-9


def test_heavy_ball_iteration_rate_agrees_with_its_companion_matrix():
    s, beta = heavy_ball_parameters(0.04, 1.0)
    lams = np.linspace(0.04, 1.0, 17)
    c = lambda lam: (1 + beta - s * lam, beta)
    assert iteration_rate(lams, s, beta) == pytest.approx(max(_companion_radius(l, c) for l in lams))


def test_without_momentum_both_are_gradient_descent():
    q = model_problem(0.2)
    gd = gradient_descent(q.grad, [1.0, 2.0], 0.7, 12)
    np.testing.assert_allclose(nesterov(q.grad, [1.0, 2.0], 0.7, 0.0, 12), gd)
    np.testing.assert_allclose(heavy_ball(q.grad, [1.0, 2.0], 0.7, 0.0, 12), gd)


def test_heavy_ball_can_cycle_where_nesterov_converges():
    """A convex function with m = 1 and L = 25 on which the heavy ball, tuned as for a
    quadratic, never converges (cf. Lessard, Recht and Packard 2016)."""
    grad = lambda x: np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))
    s, beta = heavy_ball_parameters(1.0, 25.0)
    ball = heavy_ball(grad, [3.3], s, beta, 300)[:, 0]
    np.testing.assert_allclose(ball[-3:], ball[-6:-3], atol=1e-9)  # a cycle of period 3
    assert np.min(np.abs(ball[-3:])) > 0.5
    kappa = 25.0
    s_n, beta_n = 1 / 25, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)  # Nesterov's textbook choice
    assert abs(nesterov(grad, [3.3], s_n, beta_n, 300)[-1, 0]) < 1e-12


def test_momentum_rule_is_the_heavy_ball():
    q = model_problem(0.01)
    s, beta = heavy_ball_parameters(0.01, 1.0)
    np.testing.assert_allclose(descend(Momentum(s, beta), q.grad, strang_start(0.01), 80),
                               heavy_ball(q.grad, strang_start(0.01), s, beta, 80), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(descend(SGD(1.5), q.grad, [1.0, 1.0], 20),
                               gradient_descent(q.grad, [1.0, 1.0], 1.5, 20))


def test_first_steps_show_the_bias_correction_and_the_per_weight_scaling():
    g = np.array([3.0, -0.002, 0.0])  # very different sizes, and one zero
    w = np.zeros(3)
    adam = Adam(eta=0.01)
    np.testing.assert_allclose(adam.step(w, g), [-0.01, 0.01, 0.0], rtol=1e-5)  # eta per weight
    rms = RMSProp(eta=0.01, rho=0.9)
    np.testing.assert_allclose(rms.step(w, g), [-0.01 / np.sqrt(0.1), 0.01 / np.sqrt(0.1), 0.0], rtol=1e-4)
    # Adam with a constant gradient: m_hat = g exactly at every step
    adam = Adam(eta=0.1)
    for _ in range(5):
        w = adam.step(w, g)
    np.testing.assert_allclose(w, [-0.5, 0.5, 0.0], rtol=1e-5)


def test_adam_does_not_care_how_the_cost_is_scaled_and_gradient_descent_does():
    q = model_problem(0.01)
    x0 = strang_start(0.01)
    a1 = descend(Adam(0.05, eps=1e-15), q.grad, x0, 200)  # eps: the one thing a scale changes
    a2 = descend(Adam(0.05, eps=1e-15), lambda x: 1000 * q.grad(x), x0, 200)
    np.testing.assert_allclose(a1, a2, rtol=1e-6, atol=1e-12)
    g2 = descend(SGD(1.0), lambda x: 1000 * q.grad(x), x0, 20)
    assert np.linalg.norm(g2[-1]) > 1e10  # s = 1 is safe for f, far too long for 1000 f


@pytest.mark.parametrize("ours, theirs", [
    (lambda: Momentum(0.002, 0.9), lambda p: torch.optim.SGD(p, lr=0.002, momentum=0.9)),
    (lambda: RMSProp(0.01, 0.9, 1e-8), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    (lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
])
def test_the_rules_update_torch_tensors_as_torch_optim_does(ours, theirs):
    """A second implementation to compare with: PyTorch's own optimisers."""
    gen = torch.Generator().manual_seed(0)
    w0 = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    target = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    loss = lambda w: ((w - target) ** 4).sum()  # not a quadratic: the gradients change shape

    w = w0.clone().requires_grad_()
    rule = ours()
    for _ in range(25):
        (g,) = torch.autograd.grad(loss(w), w)
        with torch.no_grad():
            w = rule.step(w, g)
        w.requires_grad_()

    p = w0.clone().requires_grad_()
    opt = theirs([p])
    for _ in range(25):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
    torch.testing.assert_close(w.detach(), p.detach(), rtol=1e-10, atol=1e-12)
