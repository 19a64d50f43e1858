"""Command lines: the training entry points, torchrun-ready.

- ``python -m textbook_utils.commands.train_mnist`` -- the MNIST MLP;
- ``python -m textbook_utils.commands.train_gpt`` -- the Shakespeare GPT
  (and the committed checkpoint).
"""
