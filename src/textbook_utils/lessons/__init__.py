"""Lessons: the code a chapter prints and walks through.

Written like micrograd and nanoGPT: the book's notation, shapes in comments,
no validation inside the math, and no validation helper imported: the
checks live at the doors (the training entry points, and
:mod:`textbook_utils.training.network_doors` and
:mod:`~textbook_utils.training.gpt_doors`, which a lesson calls once at the
top of the method a reader calls).

- :mod:`.perceptron` -- perceptrons and NAND circuits (Nielsen);
- :mod:`.baselines` -- random and average-darkness classifiers;
- :mod:`.scratch` -- the from-scratch NumPy network: BP1-BP4, SGD;
- :mod:`.mlp` -- the PyTorch MLP;
- :mod:`.preprocessing` -- standardising inputs;
- :mod:`.optim` -- gradient descent, momentum, Nesterov, Newton, SGD,
  RMSProp, Adam (Strang);
- :mod:`.rnn` -- a tiny recurrent network trained through time;
- :mod:`.tokenizers` -- characters and byte-pair encoding;
- :mod:`.attention` -- causal self-attention written out;
- :mod:`.gpt` -- the GPT model, whole;
- :mod:`.buildup`, :mod:`.residual_stream` -- the transformer built piece
  by piece, and what its residual stream carries;
- :mod:`.positions` -- sinusoidal position encodings against ``W_P``;
- :mod:`.kv_cache` -- generation with a key-value cache;
- :mod:`.llm_math` -- parameter, memory and FLOP arithmetic;
- :mod:`.packing` -- nearly perpendicular directions, the Welch bound;
- :mod:`.embeddings`, :mod:`.retrieval` -- word vectors, search, pipelines;
- :mod:`.lora` -- low-rank fine-tuning;
- :mod:`.generative` -- a tiny GAN and DDPM;
- :mod:`.tabular` -- CSV data, an MLP against boosted trees.
"""
