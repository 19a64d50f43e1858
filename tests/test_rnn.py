"""textbook_utils.lessons.rnn: the unrolled tiny RNN computes what an Elman RNN computes, and learns to add."""

import numpy as np
import pytest
import torch

from textbook_utils.lessons.rnn import (TinyRNN, binary_addition_data,
                                        bits_to_ints, ints_to_bits)


def test_forward_agrees_with_torch_nn_rnn():
    torch.manual_seed(0)
    net = TinyRNN(3, 5, 2)
    ref = torch.nn.RNN(3, 5, nonlinearity="tanh", batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(net.W_xh)
        ref.weight_hh_l0.copy_(net.W_hh)
        ref.bias_ih_l0.copy_(torch.randn(5))
        net.b_h.copy_(ref.bias_ih_l0)
        ref.bias_hh_l0.zero_()
    x = torch.randn(4, 7, 3)
    logits, hidden = net(x)
    want_hidden, _ = ref(x)
    torch.testing.assert_close(hidden, want_hidden)
    torch.testing.assert_close(logits, want_hidden @ net.W_hy.T + net.b_y)
    assert logits.shape == (4, 7, 2) and hidden.shape == (4, 7, 5)


def test_backprop_through_time_reaches_earlier_steps_only():
    torch.manual_seed(1)
    net = TinyRNN(2, 4, 1)
    x = torch.randn(1, 6, 2, requires_grad=True)
    logits, _ = net(x)
    logits[0, 3, 0].backward()  # the output at step 3
    per_step = x.grad[0].abs().sum(dim=1)  # (6,)
    assert torch.all(per_step[:4] > 0)  # steps 0..3 influence it, through the recurrent weights
    assert torch.all(per_step[4:] == 0)  # later steps cannot
    assert net.W_hh.grad is not None and net.W_hh.grad.abs().sum() > 0


def test_initial_hidden_state_is_used():
    torch.manual_seed(2)
    net = TinyRNN(2, 3, 1)
    x = torch.zeros(2, 1, 2)
    h0 = torch.ones(2, 3)
    _, hidden = net(x, h0)
    torch.testing.assert_close(hidden[:, 0], torch.tanh(h0 @ net.W_hh.T + net.b_h))


def test_binary_addition_data_is_correct():
    x, y, a, b = binary_addition_data(50, 8, seed=3)
    assert x.shape == (50, 8, 2) and y.shape == (50, 8, 1) and x.dtype == torch.float32
    assert np.all(a < 128) and np.all(b < 128)
    np.testing.assert_array_equal(bits_to_ints(x[:, :, 0].numpy().astype(int)), a)
    np.testing.assert_array_equal(bits_to_ints(x[:, :, 1].numpy().astype(int)), b)
    np.testing.assert_array_equal(bits_to_ints(y[:, :, 0].numpy().astype(int)), a + b)
    # least significant bit first: 6 = 0b110
    np.testing.assert_array_equal(ints_to_bits(np.array([6]), 4), [[0, 1, 1, 0]])


def test_trained_rnn_adds_and_generalises_to_longer_numbers():
    torch.manual_seed(0)
    net = TinyRNN(2, 8, 1)
    x, y, _, _ = binary_addition_data(2000, 8, seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        idx = torch.randint(0, len(x), (64,), generator=g)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x[idx])[0], y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    x16, _, a16, b16 = binary_addition_data(500, 16, seed=1)  # twice as long as anything seen in training
    with torch.no_grad():
        bits = (net(x16)[0][:, :, 0] > 0).long().numpy()
    assert np.mean(bits_to_ints(bits) == a16 + b16) > 0.99


def test_bad_input_is_rejected():
    net = TinyRNN(2, 4, 1)
    # forward is the math alone (chapter "Fundamentals" prints it): a
    # sequence without its time axis, or of integers, fails in torch itself
    with pytest.raises(ValueError):
        net(torch.zeros(3, 2))
    with pytest.raises(RuntimeError):
        net(torch.zeros(1, 3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 2\*\*3\)"):
        ints_to_bits(np.array([8]), 3)
    with pytest.raises(ValueError, match="only 0 and 1"):
        bits_to_ints(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="between 2 and 62"):
        binary_addition_data(10, 1)
