"""textbook_utils — the helper package of the executable neural-network textbook.

Each module holds one idea and names the chapter that uses it:

Data and hardware
- :mod:`~textbook_utils.data` — MNIST and tiny Shakespeare, SHA-256 verified;
- :mod:`~textbook_utils.device` — choosing cpu / cuda / mps, seeding;
- :mod:`~textbook_utils.distributed` — data parallelism with ``torch.distributed``.

Networks and how they learn
- :mod:`~textbook_utils.perceptron` — perceptrons and NAND circuits (Nielsen);
- :mod:`~textbook_utils.baselines` — random and average-darkness classifiers;
- :mod:`~textbook_utils.scratch` — the from-scratch NumPy network, backprop, SGD;
- :mod:`~textbook_utils.models`, :mod:`~textbook_utils.training` — the PyTorch MLP and ``fit``;
- :mod:`~textbook_utils.optim` — gradient descent, momentum, Newton, SGD (Strang);
- :mod:`~textbook_utils.rnn` — a tiny recurrent network trained through time.

Transformers and language models
- :mod:`~textbook_utils.tokenizers` — characters and byte-pair encoding;
- :mod:`~textbook_utils.attention` — causal self-attention written out;
- :mod:`~textbook_utils.gpt` — the small character-level GPT;
- :mod:`~textbook_utils.llm_math` — parameter, memory and FLOP arithmetic;
- :mod:`~textbook_utils.embeddings`, :mod:`~textbook_utils.retrieval` — word vectors, search, pipelines;
- :mod:`~textbook_utils.generative` — a tiny GAN and DDPM;
- :mod:`~textbook_utils.tabular` — CSV data, an MLP against boosted trees.

Figures, widgets, history and command lines
- :mod:`~textbook_utils.plotting`, :mod:`~textbook_utils.widgets`, :mod:`~textbook_utils.history`;
- ``python -m textbook_utils.train_mnist`` and ``python -m textbook_utils.train_gpt`` (torchrun-ready).

Modules are imported on demand (``from textbook_utils.data import load_mnist``),
so loading data never pulls in PyTorch.
"""

__version__ = "0.1.0"
