"""Muon (textbook_utils.lessons.optim.muon): Newton-Schulz orthogonalisation and the step."""

import pytest
import torch

from textbook_utils.lessons.optim.muon import NS_COEFFICIENTS, Muon, newton_schulz


@pytest.mark.parametrize("shape", [(32, 8), (8, 32), (16, 16)])
def test_newton_schulz_keeps_the_directions_and_flattens_the_singular_values(shape):
    g = torch.Generator().manual_seed(0)
    U, _ = torch.linalg.qr(torch.randn(shape[0], shape[0], generator=g))
    V, _ = torch.linalg.qr(torch.randn(shape[1], shape[1], generator=g))
    k = min(shape)
    s = torch.logspace(0, -2, k)  # singular values spread over 100x
    D = U[:, :k] @ torch.diag(s) @ V[:, :k].T
    O = newton_schulz(D, steps=5)
    assert O.shape == D.shape
    out = torch.linalg.svdvals(O)
    assert out.max() < 1.3 and out.min() > 0.6, out  # all near 1, none near 0.01
    polar = U[:, :k] @ V[:, :k].T  # U V^T, the exact answer
    cos = (O * polar).sum() / (O.norm() * polar.norm())
    assert cos > 0.98, cos
    # one step is the quintic p(s) = a s + b s^3 + c s^5 on each singular value
    a, b, c = NS_COEFFICIENTS
    x = s / D.norm()
    one = torch.linalg.svdvals(newton_schulz(D, steps=1))
    assert torch.allclose(one.sort().values, (a * x + b * x**3 + c * x**5).sort().values,
                          rtol=1e-4, atol=1e-6)


def test_muon_step_is_the_orthogonalised_nesterov_momentum():
    g = torch.Generator().manual_seed(1)
    W = torch.nn.Parameter(torch.randn(12, 4, generator=g))
    W0 = W.detach().clone()
    opt = Muon([W], lr=0.1, momentum=0.5, weight_decay=0.0)
    G = torch.randn(12, 4, generator=g)
    W.grad = G.clone()
    opt.step()
    # first step: M = G, D = G + 0.5 G; tall matrix, scale sqrt(12 / 4)
    expected = W0 - 0.1 * 3 ** 0.5 * newton_schulz(1.5 * G)
    assert torch.allclose(W.detach(), expected, atol=1e-6)
    W.grad = G.clone()
    opt.step()  # second: M = 1.5 G, D = G + 0.75 G, the same direction
    expected = expected - 0.1 * 3 ** 0.5 * newton_schulz(1.75 * G)
    assert torch.allclose(W.detach(), expected, atol=1e-5)


def test_muon_descends_a_least_squares_loss():
    g = torch.Generator().manual_seed(2)
    A, B = torch.randn(64, 16, generator=g), torch.randn(64, 8, generator=g)
    W = torch.nn.Parameter(torch.zeros(16, 8))
    opt = Muon([W], lr=0.05)
    losses = []
    for k in range(60):
        loss = ((A @ W - B) ** 2).mean()
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = 0.05 * (1 - k / 60)  # decay to 0
        opt.step()
    best = torch.linalg.lstsq(A, B).solution
    floor = ((A @ best - B) ** 2).mean().item()
    # most of the way from the start to the least-squares floor
    assert losses[-1] - floor < 0.1 * (losses[0] - floor), (losses, floor)


def test_the_recipe_gives_muon_the_matrices_and_checks_its_rate(small):
    """The door is the recipe: Muon itself (a lesson) checks nothing."""
    from textbook_utils.training.gpt_loop import Recipe, make_optimizer
    optimizer = make_optimizer(small, Recipe(optimizer="muon"))
    muon = [o for o in optimizer.optimizers if isinstance(o, Muon)]
    assert len(muon) == 1
    shapes = [p.shape for g in muon[0].param_groups for p in g["params"]]
    assert shapes and all(len(s) == 2 for s in shapes)
    with pytest.raises(ValueError, match="muon_lr"):
        Recipe(optimizer="muon", muon_lr=-1)
