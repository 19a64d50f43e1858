"""Runs: the commands that write a chapter's committed results.

Each is ``python -m textbook_utils.runs.<name> --out <json>`` and writes its
result through :mod:`textbook_utils.tools.safe_write`; CONTRIBUTING.md lists
them beside the chapters that read them.

- :mod:`.video_net` -- the video's 784-16-16-10 network and its ablation;
- :mod:`.buildup_runs` -- the transformer's rungs, trained;
- :mod:`.kv_cache_timing` -- generation timed with and without the cache;
- :mod:`.in_context`, :mod:`.specialising` -- in-context learning and
  fine-tuning;
- :mod:`.scaling_laws` -- loss against parameters, data and compute;
- :mod:`.parallel_cost` -- when parallel hardware pays.
"""
