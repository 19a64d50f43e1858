"""Optimisation in plain NumPy: the methods of the Strang chapters.

Used by "Gradient descent: downhill to a minimum"
(``book/strang/01_gradient_descent.ipynb``) and "Momentum, Newton and
stochastic gradient descent" (``book/strang/02_momentum_newton_sgd.ipynb``),
which follow MIT 18.065 lectures 22 and 23. One idea per module:

- :mod:`.descent` -- the model problem f = 1/2 x^T S x, gradient descent
  and exact line search, and how fast they converge;
- :mod:`.momentum` -- the heavy ball and Nesterov's method, each with its
  best step and momentum;
- :mod:`.newton` -- Newton's method, pure, damped and with a line search;
- :mod:`.stochastic` -- SGD on a least-squares loss and its noise ball;
- :mod:`.adaptive` -- momentum, RMSProp and Adam as update rules, for NumPy
  arrays and PyTorch tensors alike, run (and their settings checked) by
  :func:`textbook_utils.training.descend.descend`, imported here;
- :mod:`.muon` -- Muon, a torch optimiser for weight matrices: Nesterov
  momentum, then the step orthogonalised by Newton-Schulz (import it as
  ``textbook_utils.lessons.optim.muon``; it needs PyTorch, the rest NumPy only).

Every method returns the whole path x_0, x_1, ..., x_K as an array of shape
(K + 1, d), so a chapter can draw it over the contours and measure how fast
the error falls. The notation is Strang's: x_k is the point after k steps,
s the step size (the learning rate), beta the momentum.
"""

from textbook_utils.lessons.optim.adaptive import (SGD, Adam, Momentum,
                                                   RMSProp)
from textbook_utils.lessons.optim.descent import (
    Quadratic, exact_line_search, exact_line_search_closed_form,
    gradient_descent, measured_rate, model_problem, steepest_descent_rate,
    strang_start)
from textbook_utils.lessons.optim.momentum import (heavy_ball,
                                                   heavy_ball_parameters,
                                                   heavy_ball_rate,
                                                   iteration_rate, nesterov,
                                                   nesterov_parameters,
                                                   nesterov_rate)
from textbook_utils.lessons.optim.newton import newton
from textbook_utils.lessons.optim.stochastic import LeastSquares, noise_ball
from textbook_utils.training.descend import descend, sgd

__all__ = [
    "SGD", "Adam", "LeastSquares", "Momentum", "Quadratic", "RMSProp",
    "descend", "exact_line_search",
    "exact_line_search_closed_form", "gradient_descent", "heavy_ball",
    "heavy_ball_parameters", "heavy_ball_rate", "iteration_rate",
    "measured_rate", "model_problem", "nesterov", "nesterov_parameters",
    "nesterov_rate", "newton", "noise_ball", "sgd",
    "steepest_descent_rate", "strang_start",
]
