"""From momentum to Adam: update rules that carry their own memory.

Used by "Momentum, Newton and stochastic gradient descent"
(``book/strang/02_momentum_newton_sgd.ipynb``). Each rule turns weights w
and their gradient g into new weights, and remembers what it needs between
steps (k counts steps; products and square roots act entry by entry):

    SGD       w <- w - eta g
    Momentum  z <- g + beta z
              w <- w - eta z
    RMSProp   v <- rho v + (1 - rho) g^2
              w <- w - eta g / (sqrt(v) + eps)
    Adam      m <- beta1 m + (1 - beta1) g,    m_hat = m / (1 - beta1^k)
              v <- beta2 v + (1 - beta2) g^2,  v_hat = v / (1 - beta2^k)
              w <- w - eta m_hat / (sqrt(v_hat) + eps)

Momentum is Strang's form of the heavy ball. RMSProp (Tieleman and Hinton,
2012) divides each weight's step by a running root-mean-square of its own
gradients. Adam (Kingma and Ba, 2015) does both, and corrects the averages
m and v for starting at zero. The rules use only arithmetic, so the same
code updates NumPy arrays and PyTorch tensors: use one rule per array.
They check nothing; :func:`textbook_utils.training.descend.descend` checks
their settings before it runs one.
"""



class SGD:
    def __init__(self, eta: float):
        self.eta = eta

    def step(self, w, g):
        return w - self.eta * g


class Momentum:
    def __init__(self, eta: float, beta: float = 0.9):
        self.eta, self.beta = eta, beta
        self.z = 0.0  # the velocity: a decaying sum of past gradients

    def step(self, w, g):
        self.z = g + self.beta * self.z
        return w - self.eta * self.z


class RMSProp:
    def __init__(self, eta: float, rho: float = 0.9, eps: float = 1e-8):
        self.eta, self.rho, self.eps = eta, rho, eps
        self.v = 0.0  # running mean of g^2, one per weight

    def step(self, w, g):
        self.v = self.rho * self.v + (1 - self.rho) * g * g
        return w - self.eta * g / (self.v**0.5 + self.eps)


class Adam:
    def __init__(self, eta: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.eta, self.beta1, self.beta2, self.eps = eta, beta1, beta2, eps
        self.m = self.v = 0.0  # running means of g and of g^2
        self.k = 0

    def step(self, w, g):
        self.k += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        m_hat = self.m / (1 - self.beta1**self.k)  # undo the zero start
        v_hat = self.v / (1 - self.beta2**self.k)
        return w - self.eta * m_hat / (v_hat**0.5 + self.eps)
