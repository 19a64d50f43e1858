"""textbook_utils — the helper package of the executable neural-network textbook.

Each module holds one idea and names the chapter that uses it:

- :mod:`textbook_utils.data` — MNIST and tiny Shakespeare, SHA-256 verified;
- :mod:`textbook_utils.device` — choosing cpu / cuda / mps, seeding;
- :mod:`textbook_utils.scratch` — the from-scratch NumPy network;
- :mod:`textbook_utils.plotting` — figures the chapters share;
- :mod:`textbook_utils.widgets` — the chapters' interactive explorers.

Modules are imported on demand (``from textbook_utils.data import load_mnist``),
so loading data never pulls in PyTorch.
"""

__version__ = "0.1.0"
