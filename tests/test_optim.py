"""textbook_utils.lessons.optim: Strang's closed forms and rates hold, and the methods behave as taught."""

import functools
from fractions import Fraction

import numpy as np
import pytest

from textbook_utils.lessons.optim import (LeastSquares, Quadratic,
                                          exact_line_search,
                                          exact_line_search_closed_form,
                                          gradient_descent, heavy_ball,
                                          heavy_ball_parameters,
                                          heavy_ball_rate, iteration_rate,
                                          measured_rate, model_problem, newton,
                                          noise_ball, sgd,
                                          steepest_descent_rate, strang_start)


def _exact_line_search_in_fractions(b: Fraction, n_steps: int):
    """Exact line search on f = (x^2 + b y^2)/2 from (b, 1), in exact rational arithmetic."""
    x, y = b, Fraction(1)
    path = [(x, y)]
    for _ in range(n_steps):
        gx, gy = x, b * y
        s = (gx * gx + gy * gy) / (gx * gx + b * gy * gy)
        x, y = x - s * gx, y - s * gy
        path.append((x, y))
    return path


@pytest.mark.parametrize("b", [Fraction(1, 10), Fraction(1, 100), Fraction(4)])
def test_exact_line_search_follows_strangs_closed_forms(b):
    r = (b - 1) / (b + 1)
    exact = _exact_line_search_in_fractions(b, 12)
    # The closed forms hold exactly in rational arithmetic ...
    for k, (x, y) in enumerate(exact):
        assert x == b * r**k and y == (-r) ** k
        assert (x * x + b * y * y) / 2 == r ** (2 * k) * (b * b + b) / 2
    # ... and the floating-point iteration and formulas agree with them to rounding.
    path = exact_line_search(model_problem(float(b)), strang_start(float(b)), 12)
    xs, ys, fs = exact_line_search_closed_form(float(b), np.arange(13))
    want = np.array([[float(x), float(y)] for x, y in exact])
    np.testing.assert_allclose(path, want, rtol=1e-13)
    np.testing.assert_allclose(np.column_stack([xs, ys]), want, rtol=1e-13)
    np.testing.assert_allclose(model_problem(float(b)).f(path), fs, rtol=1e-13)


def test_exact_line_search_steps_are_orthogonal_and_zig_zag():
    path = exact_line_search(model_problem(0.1), strang_start(0.1), 8)
    steps = np.diff(path, axis=0)
    dots = np.sum(steps[1:] * steps[:-1], axis=1)
    np.testing.assert_allclose(dots, 0, atol=1e-15)
    assert np.all(np.sign(path[1:, 0]) == -np.sign(path[:-1, 0]))  # x changes sign every step
    assert np.all(path[:, 1] > 0) and np.all(np.diff(path[:, 1]) < 0)  # y shrinks towards 0


def test_model_problem_gradient_hessian_condition_number():
    q = model_problem(0.01)
    np.testing.assert_array_equal(q.grad(np.array([3.0, 5.0])), [3.0, 0.05])
    np.testing.assert_array_equal(q.hessian(), [[1, 0], [0, 0.01]])
    assert q.condition_number == pytest.approx(100)
    assert q.f(np.array([2.0, 10.0])) == pytest.approx(0.5 * (4 + 0.01 * 100))
    grid = np.zeros((3, 4, 2))
    assert q.f(grid).shape == (3, 4) and np.all(q.minimiser == 0)


def test_the_notes_double_minus_climbs_and_the_correct_sign_descends():
    q = model_problem(0.1)
    x0 = strang_start(0.1)
    down = gradient_descent(q.grad, x0, 0.5, 5)
    up = gradient_descent(lambda x: -q.grad(x), x0, 0.5, 5)  # x - s * (-grad f) = x + s grad f
    assert np.all(np.diff(q.f(down)) < 0)
    assert np.all(np.diff(q.f(up)) > 0)


@pytest.mark.parametrize("b, s_max", [(0.1, 2.0), (0.01, 2.0), (4.0, 0.5)])
def test_fixed_step_converges_below_two_over_lambda_max_and_diverges_above(b, s_max):
    q = model_problem(b)
    x0 = strang_start(b)
    inside = gradient_descent(q.grad, x0, 0.98 * s_max, 3000)
    outside = gradient_descent(q.grad, x0, 1.02 * s_max, 300)
    edge = gradient_descent(q.grad, x0, s_max, 3000)
    assert np.linalg.norm(inside[-1]) < 1e-6 * np.linalg.norm(x0)
    assert np.linalg.norm(outside[-1]) > 10 * np.linalg.norm(x0)
    assert np.linalg.norm(edge[-1]) > 0.1 * min(b, 1)  # on the edge it never settles


def test_step_size_sequence_is_used_step_by_step():
    q = model_problem(0.5)
    path = gradient_descent(q.grad, [1.0, 1.0], [1.0, 0.5], 2)
    np.testing.assert_allclose(path, [[1, 1], [0, 0.5], [0, 0.375]])


@pytest.mark.parametrize("b", [0.1, 0.01, 4.0])
def test_heavy_ball_rate_matches_theory_and_beats_steepest_descent(b):
    q = model_problem(b)
    lo, hi = min(b, 1.0), max(b, 1.0)
    s, beta = heavy_ball_parameters(lo, hi)
    path = heavy_ball(q.grad, strang_start(b), s, beta, 200)
    errors = np.linalg.norm(path, axis=1)
    rate = measured_rate(errors, 100, 200)
    theory = (1 - np.sqrt(b)) / (1 + np.sqrt(b)) if b < 1 else (np.sqrt(b) - 1) / (np.sqrt(b) + 1)
    assert heavy_ball_rate(lo, hi) == pytest.approx(theory)
    assert theory <= rate < theory + 0.01  # the (k+1) rho^k factor of critical damping: slightly slower
    assert rate < steepest_descent_rate(lo, hi) == pytest.approx(abs(b - 1) / (b + 1))


def test_heavy_ball_parameters_for_b_one_hundredth():
    s, beta = heavy_ball_parameters(0.01, 1.0)
    assert s == pytest.approx(4 / 1.1**2)
    assert beta == pytest.approx((0.9 / 1.1) ** 2)
    assert heavy_ball_rate(0.01, 1.0) == pytest.approx(0.9 / 1.1)
    assert steepest_descent_rate(0.01, 1.0) == pytest.approx(0.99 / 1.01)


def test_heavy_ball_without_momentum_is_gradient_descent():
    q = model_problem(0.2)
    np.testing.assert_allclose(heavy_ball(q.grad, [1.0, 2.0], 0.7, 0.0, 10),
                               gradient_descent(q.grad, [1.0, 2.0], 0.7, 10))


def test_newton_reaches_the_minimum_of_any_quadratic_in_one_step():
    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    q = Quadratic(M @ M.T + 0.1 * np.eye(5))
    x0 = rng.standard_normal(5)
    path = newton(q.grad, q.hessian, x0, 1)
    np.testing.assert_allclose(path[1], 0, atol=1e-12)
    half = newton(q.grad, q.hessian, x0, 1, t=0.5)
    np.testing.assert_allclose(half[1], 0.5 * x0, rtol=1e-10)


def _four_wells():
    # f = x^4/4 - x^2/2 + y^4/4 - y^2/2: minima (+-1, +-1), saddles (+-1, 0), (0, +-1), maximum (0, 0)
    grad = lambda p: p**3 - p
    hess = lambda p: np.diag(3 * p**2 - 1)
    return grad, hess


@pytest.mark.parametrize("start, goal", [((0.3, 0.2), (0, 0)), ((0.3, 0.8), (0, 1)), ((0.8, 0.7), (1, 1))])
def test_newton_goes_to_whatever_stationary_point_is_near(start, goal):
    grad, hess = _four_wells()
    path = newton(grad, hess, start, 8)
    np.testing.assert_allclose(path[-1], goal, atol=1e-12)


def test_pure_newton_runs_away_where_damped_newton_converges():
    f = lambda x: np.sqrt(1 + x[0] ** 2)  # convex, minimum at 0
    grad = lambda x: x / np.sqrt(1 + x**2)
    hess = lambda x: np.atleast_2d((1 + x**2) ** -1.5)
    pure = newton(grad, hess, [1.5], 4)
    np.testing.assert_allclose(pure[:, 0], [1.5, -1.5**3, 1.5**9, -(1.5**27), 1.5**81], rtol=1e-9)
    damped = newton(grad, hess, [1.5], 12, f=f)
    assert abs(damped[-1, 0]) < 1e-10


def test_line_search_refuses_an_uphill_newton_direction():
    f = lambda x: 1 - np.exp(-x[0] ** 2 / 2)  # negative curvature for |x| > 1
    grad = lambda x: x * np.exp(-x**2 / 2)
    hess = lambda x: np.atleast_2d((1 - x**2) * np.exp(-x**2 / 2))
    away = newton(grad, hess, [1.5], 3)
    assert np.all(np.diff(np.abs(away[:, 0])) > 0)  # pure Newton heads off to infinity
    with pytest.raises(RuntimeError, match="not positive definite"):
        newton(grad, hess, [1.5], 3, f=f)


def _line_fit(n=200, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, n)
    A = np.column_stack([np.ones(n), t])
    return LeastSquares(A, 0.5 + 2.0 * t + 0.3 * rng.standard_normal(n))


def test_least_squares_minimiser_solves_the_normal_equations():
    ls = _line_fit()
    w = ls.minimiser
    np.testing.assert_allclose(ls.A.T @ ls.A @ w, ls.A.T @ ls.y, rtol=1e-10)
    np.testing.assert_allclose(ls.grad(w), 0, atol=1e-12)
    assert ls.f(w) < ls.f(w + [0.01, 0]) and ls.f(np.zeros((4, 2))).shape == (4,)


def test_mini_batch_gradients_average_to_the_full_gradient():
    ls = _line_fit()
    w = np.array([-1.0, 3.0])
    batches = np.arange(ls.n).reshape(20, 10)
    np.testing.assert_allclose(np.mean([ls.grad(w, idx) for idx in batches], axis=0), ls.grad(w), rtol=1e-12)


def test_sgd_with_the_whole_batch_is_gradient_descent_and_noise_grows_with_eta():
    ls = _line_fit()
    full = sgd(ls, [0.0, 0.0], 0.3, ls.n, 50)
    np.testing.assert_allclose(full, gradient_descent(ls.grad, [0.0, 0.0], 0.3, 50), rtol=1e-12)
    w_star = ls.minimiser

    @functools.cache  # each (eta, batch) is run once, however often it is compared
    def ball(eta, batch):
        path = sgd(ls, w_star, eta, batch, 6000, seed=1)
        return np.mean(np.sum((path[1000:] - w_star) ** 2, axis=1))

    assert ball(0.01, 1) < ball(0.1, 1) / 3
    assert ball(0.1, 20) < ball(0.1, 1) / 3
    for eta, batch in [(0.1, 1), (0.03, 1), (0.1, 10)]:  # the predicted size of the noise ball holds
        assert 0.8 < ball(eta, batch) / noise_ball(ls, eta, batch) < 1.25


def test_noise_ball_is_zero_without_noise_and_proportional_to_eta_over_b():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 3))
    exact = LeastSquares(A, A @ np.array([1.0, -2.0, 0.5]))  # a perfect fit: every example's gradient is 0 at w*
    assert noise_ball(exact, 0.1, 1) == pytest.approx(0, abs=1e-20)
    ls = _line_fit()
    assert noise_ball(ls, 0.02, 1) == pytest.approx(noise_ball(ls, 0.1, 1) / 5)
    assert noise_ball(ls, 0.1, ls.n) == 0  # the full batch has no noise


def test_iteration_rate_is_the_factor_per_step():
    assert iteration_rate([0.1, 1.0], 1.0) == pytest.approx(0.9)  # max(|1 - 0.1|, |1 - 1|)
    assert iteration_rate([0.1, 1.0], 2.5) == pytest.approx(1.5)  # |1 - 2.5|: diverges
    s, beta = heavy_ball_parameters(0.01, 1.0)
    assert iteration_rate([0.01, 1.0], s, beta) == pytest.approx(0.9 / 1.1, rel=1e-6)
    q = model_problem(0.1)  # the measured factor of a real run agrees
    path = gradient_descent(q.grad, strang_start(0.1), 1.5, 60)
    assert measured_rate(np.linalg.norm(path, axis=1), 30, 60) == pytest.approx(iteration_rate([0.1, 1], 1.5))


def test_measured_rate_of_a_geometric_sequence():
    assert measured_rate(0.7 ** np.arange(20), 5, 15) == pytest.approx(0.7)
    errors = 3.0 * 0.5 ** np.arange(10) * (1 + 0.1 * (-1) ** np.arange(10))
    assert measured_rate(errors, 2, 8) == pytest.approx(0.5)  # wiggles cancel over an even span


def test_a_readers_likely_mistakes_get_clear_errors():
    """Only the boundaries check: the problem a reader builds, and SGD's settings."""
    with pytest.raises(ValueError, match="positive definite"):
        model_problem(-1)
    with pytest.raises(ValueError, match="square matrix"):
        Quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        Quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite; its smallest eigenvalue is -1"):
        Quadratic(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"A of shape \(n, d\) and y of shape \(n,\)"):
        LeastSquares(np.ones((3, 2)), np.ones(4))
    ls = _line_fit()
    with pytest.raises(ValueError, match="eta must be a finite number > 0"):
        sgd(ls, [0.0, 0.0], float("inf"), 10, 5)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        sgd(ls, [0.0, 0.0], 0.1, 0, 5)
    with pytest.raises(ValueError, match="larger sample than population"):  # NumPy says it
        sgd(ls, [0.0, 0.0], 0.1, ls.n + 1, 5)


def test_exact_line_search_stays_at_the_minimum_once_there():
    q = model_problem(1.0)  # round contours: one step lands on the minimum
    path = exact_line_search(q, strang_start(1.0), 3)
    np.testing.assert_array_equal(path[1:], 0.0)


# --- the Strang chapters' figures and explorer (plotting.plot_contours / plot_path, widgets.descent_*) ---

def test_contours_and_path_are_drawn_on_the_given_axes():
    import matplotlib

    matplotlib.use("Agg")  # tests only: no window
    import matplotlib.pyplot as plt

    from textbook_utils.figures.plotting import plot_contours, plot_path

    q = model_problem(0.1)
    fig, ax = plt.subplots()
    assert plot_contours(q.f, (-1, 1), (-1, 1), ax, levels=5) is ax
    path = exact_line_search(q, strang_start(0.1), 6)
    plot_path(path, ax, label="exact")
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path)
    with pytest.raises(ValueError, match=r"\(K \+ 1, 2\)"):
        plot_path(np.zeros((4, 3)), ax)
    with pytest.raises(ValueError, match="increasing pairs"):
        plot_contours(q.f, (1, -1), (-1, 1), ax)
    with pytest.raises(ValueError, match=r"points \(\.\.\., 2\)"):
        plot_contours(lambda p: p, (-1, 1), (-1, 1), ax)
    plt.close("all")


def test_descent_figure_describes_what_the_method_did():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from textbook_utils.figures.widgets import descent_figure

    _, alt = descent_figure("Newton", 0.1, 1.0)
    assert "reaches the minimum exactly at step 1" in alt
    _, alt = descent_figure("fixed step", 0.1, 2.1)
    assert "diverges" in alt
    _, alt = descent_figure("exact line search", 0.01, 1.0, n_steps=10)
    assert "b = 0.01" in alt and "falls" in alt
    with pytest.raises(ValueError, match=r"damping t must be in \(0, 1\]"):
        descent_figure("Newton", 0.1, 1.5)
    with pytest.raises(ValueError, match="method must be one of"):
        descent_figure("Adam", 0.1, 1.0)
    plt.close("all")


def test_descent_explorer_draws_every_method_at_its_best_step():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from textbook_utils.figures.widgets import (DESCENT_METHODS, best_step,
                                                descent_explorer)

    box = descent_explorer(method="momentum", b=0.01, bs=(0.1, 0.01), n_steps=20)
    menu, b_slider = box.children[0].children
    assert menu.options == DESCENT_METHODS and menu.value == "momentum"
    assert b_slider.options == ("0.1", "0.01") and b_slider.value == "0.01"
    frames = [frame for stack in box.children[1].children for frame in stack.children]
    assert len(frames) == 2 * len(DESCENT_METHODS)
    momentum = frames[2 * DESCENT_METHODS.index("momentum") + 1].value
    assert f"s = {best_step('momentum', 0.01):.3g}" in momentum and "b = 0.01" in momentum
    newton = frames[2 * DESCENT_METHODS.index("Newton")].value
    assert "exactly at step 1" in newton
    assert best_step("fixed step", 0.01) == pytest.approx(2 / 1.01)
    assert best_step("momentum", 0.01) == pytest.approx(4 / 1.1**2)
    with pytest.raises(ValueError, match="first view"):
        descent_explorer(b=2.0)
    plt.close("all")
