"""textbook_utils — the helper package of the executable neural-network textbook.

Each module holds one idea and names the chapter that uses it:

Data, hardware and seeds
- :mod:`~textbook_utils.data` — MNIST and tiny Shakespeare, SHA-256 verified;
- :mod:`~textbook_utils.device` — choosing cpu / cuda / mps;
- :mod:`~textbook_utils.seeding` — every training seed, and the switch that moves them all;
- :mod:`~textbook_utils.checks` — the checks at the boundaries a reader touches;
- :mod:`~textbook_utils.distributed` — data parallelism with ``torch.distributed``.

Networks and how they learn
- :mod:`~textbook_utils.perceptron` — perceptrons and NAND circuits (Nielsen);
- :mod:`~textbook_utils.baselines` — random and average-darkness classifiers;
- :mod:`~textbook_utils.scratch` — the from-scratch NumPy network: BP1–BP4, SGD;
- :mod:`~textbook_utils.mlp`, :mod:`~textbook_utils.training` — the PyTorch MLP and ``fit``;
- :mod:`~textbook_utils.video_net` — the video's 784-16-16-10 network, its recipe and the book's;
- :mod:`~textbook_utils.preprocessing` — standardising inputs;
- :mod:`~textbook_utils.optim` — gradient descent, momentum, Nesterov, Newton, SGD, RMSProp, Adam (Strang);
- :mod:`~textbook_utils.rnn` — a tiny recurrent network trained through time.

Transformers and language models
- :mod:`~textbook_utils.tokenizers` — characters and byte-pair encoding;
- :mod:`~textbook_utils.attention` — causal self-attention written out;
- :mod:`~textbook_utils.gpt` — the GPT model, whole: configuration, attention, block, model, generation;
- :mod:`~textbook_utils.gpt_data`, :mod:`~textbook_utils.gpt_training`,
  :mod:`~textbook_utils.gpt_checkpoint` — its data, its training loop, its checkpoints;
- :mod:`~textbook_utils.llm_math` — parameter, memory and FLOP arithmetic;
- :mod:`~textbook_utils.positions` — sinusoidal position encodings against the learned ``W_P``;
- :mod:`~textbook_utils.kv_cache`, :mod:`~textbook_utils.kv_cache_timing` — generation with a key-value cache, and its timing;
- :mod:`~textbook_utils.packing` — nearly perpendicular directions and the Welch bound (video 7);
- :mod:`~textbook_utils.embeddings`, :mod:`~textbook_utils.retrieval` — word vectors, search, pipelines;
- :mod:`~textbook_utils.in_context`, :mod:`~textbook_utils.lora` — in-context learning, low-rank fine-tuning;
- :mod:`~textbook_utils.generative` — data, networks and noise schedule for a tiny GAN and DDPM;
- :mod:`~textbook_utils.tabular` — CSV data, an MLP against boosted trees.

Scale
- :mod:`~textbook_utils.scaling_laws` — loss against parameters, data and compute;
- :mod:`~textbook_utils.parallel_cost` — when parallel hardware pays: measurements and a cost model.

Figures, widgets, the timeline and command lines
- :mod:`~textbook_utils.plotting`, :mod:`~textbook_utils.widgets`, :mod:`~textbook_utils.timeline`;
- ``python -m textbook_utils.train_mnist`` and ``python -m textbook_utils.train_gpt`` (torchrun-ready).

Modules are imported on demand (``from textbook_utils.data import load_mnist``),
so loading data never pulls in PyTorch.
"""

__version__ = "0.1.0"
