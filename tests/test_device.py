"""textbook_utils.tools.device: device choice."""

import pytest
import torch

from textbook_utils.tools.device import DEVICE_ENV, pick_device


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")


def test_argument_beats_environment_and_environment_beats_auto(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "not-a-device")
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match=rf"not-a-device.*\${DEVICE_ENV}"):
        pick_device()
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cpu")


def test_missing_hardware_is_an_error_not_a_silent_fallback(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(RuntimeError, match="MPS backend is not available"):
        pick_device("mps")


def test_bad_device_names():
    with pytest.raises(ValueError, match="expected one of auto, cpu, cuda, mps"):
        pick_device("tpu")
    with pytest.raises(TypeError, match="device must be a string"):
        pick_device(0)
