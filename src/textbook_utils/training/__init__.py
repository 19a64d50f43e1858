"""Training: the single-process loops, their recipes and checkpoints.

- :mod:`.loop` -- ``fit``, the loop that trains the MLPs (MNIST, tabular),
  and ``train_step``, the one optimiser step every loop takes;
- :mod:`.descend` -- ``descend``, which runs the Strang chapters' update
  rules and checks their settings;
- :mod:`.network_doors` -- what the NumPy ``Network`` checks where a reader
  hands it sizes, data and settings (its constructor, ``SGD``,
  ``evaluate``);
- :mod:`.gpt_loop` -- the GPT's ``Recipe`` and ``train``;
- :mod:`.gpt_data` -- the GPT's batches and its loss estimate;
- :mod:`.gpt_checkpoint` -- the committed GPT checkpoint, saved and loaded.
- :mod:`.gpt_doors` -- what the GPT checks where a shape, a prompt or
  sampling settings come in from outside.

Data parallelism is applied where a program starts (see
:mod:`textbook_utils.commands`), never inside a loop.
"""
