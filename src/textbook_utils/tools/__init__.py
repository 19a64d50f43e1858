"""Tools: the infrastructure under the lessons.

- :mod:`.data` -- MNIST and tiny Shakespeare, SHA-256 verified;
- :mod:`.device` -- choosing cpu / cuda / mps;
- :mod:`.seeding` -- every training seed, and the switch that moves them all;
- :mod:`.checks` -- the checks at the doors a reader touches;
- :mod:`.cli` -- the argparse types the command lines share;
- :mod:`.safe_write` -- the one atomic, refusing writer;
- :mod:`.distributed` -- data parallelism with ``torch.distributed``.
"""
