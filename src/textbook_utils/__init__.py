"""textbook_utils — the helper package of the executable neural-network textbook.

The package is laid out by role, so a reader knows which files are pages
and which are tools:

- ``lessons/`` — the code chapters print and walk through
  (the NumPy network, the MLP, the GPT, attention, tokenizers, the
  optimisers, LoRA, the RNN, ...), with no validation inside the math;
- ``training/`` — the training loops, recipes and
  checkpoints;
- ``runs/`` — the commands that write a chapter's committed
  results (``python -m textbook_utils.runs.<name> --out ...``);
- ``commands/`` — the training command lines,
  ``python -m textbook_utils.commands.train_mnist`` and
  ``python -m textbook_utils.commands.train_gpt`` (torchrun-ready);
- ``figures/`` — plotting, widgets, the timeline;
- ``tools/`` — data, device, seeding, the checks at the
  doors, the atomic writer, distributed training.

Each module holds one idea and names the chapter that uses it. Modules are
imported on demand (``from textbook_utils.tools.data import load_mnist``),
so loading data never pulls in PyTorch.
"""

__version__ = "0.1.0"
