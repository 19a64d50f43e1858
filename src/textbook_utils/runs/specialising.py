"""Full fine-tuning and LoRA of the book's GPT on the book's own prose.

Chapter "Specialising a model" (``book/questions/04_specialising_a_model.ipynb``)
continues the training of the Shakespeare GPT (:mod:`textbook_utils.training.gpt_checkpoint`)
on the Markdown of the book's pages, once with every parameter trainable and
once through LoRA (:mod:`textbook_utils.lessons.lora`), from the same start, on the
same batches. The two runs of the chapter take about half a minute of CPU,
so their results are committed; the chapter re-runs the first steps live::

    python -m textbook_utils.runs.specialising --out book/questions/specialising.json --overwrite

(``--overwrite``: the committed file exists; without it the command refuses.)

- :func:`book_prose` turns the book's pages into train and validation ids;
- :func:`held_out_losses` measures the loss on both kinds of text;
- :func:`fine_tune` is the training loop both runs use;
- :func:`run` does one run and records what the chapter shows.
"""

from __future__ import annotations

import argparse
import io
import math
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from textbook_utils.tools import cli
from textbook_utils.lessons import lora, retrieval
from textbook_utils.tools.checks import positive_int, positive_number
from textbook_utils.tools.data import load_text
from textbook_utils.lessons.gpt import GPTConfig
from textbook_utils.training.gpt_checkpoint import load_checkpoint
from textbook_utils.training.gpt_data import (estimate_loss, get_batch,
                                              shakespeare_data)
from textbook_utils.training.gpt_loop import step_on_batch
from textbook_utils.tools.seeding import seed_everything, training_seed

__all__ = ["RUNS", "book_prose", "fine_tune", "held_out_losses", "main", "run", "saved_bytes"]

#: the chapter's two runs: learning rate, and LoRA's rank and alpha (None: full fine-tuning)
RUNS = {"full": dict(lr=5e-4, r=None, alpha=None),
        "lora": dict(lr=3e-3, r=4, alpha=8.0)}
STEPS, BATCH_SIZE, EVAL_BLOCKS = 100, 16, 200
SAMPLE_PROMPT = "The learning rate "


def book_prose(passages, tokenizer):
    """The book's pages (:func:`textbook_utils.lessons.retrieval.book_passages`) as
    token ids, split 90/10 into train and validation; characters the
    Shakespeare GPT never saw are dropped.
    Returns ``(train_ids, val_ids, n_kept, n_dropped)``."""
    text = "\n\n".join(p.text for p in passages)
    known = set(load_text())
    kept = "".join(ch for ch in text if ch in known)
    ids = torch.tensor(tokenizer.encode(kept), dtype=torch.long)
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:], len(kept), len(text) - len(kept)


def held_out_losses(model, book_val, shakespeare_val, max_blocks=EVAL_BLOCKS) -> dict[str, float]:
    """Loss per character on held-out text of both kinds."""
    return {"book prose": estimate_loss(model, book_val, max_blocks=max_blocks),
            "Shakespeare": estimate_loss(model, shakespeare_val, max_blocks=max_blocks)}


def fine_tune(model, train_ids, lr, steps=STEPS, batch_size=BATCH_SIZE,
              seed=0):
    """AdamW on the trainable parameters, on batches of ``train_ids``;
    returns the model (in eval mode) and the training loss of every step."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(training_seed(seed))
    model.train()
    curve = []
    for _ in range(steps):
        x, y = get_batch(train_ids, model.cfg.block_size, batch_size,
                         generator=g)  # (batch_size, T) each
        curve.append(step_on_batch(model, opt, x, y, lr=lr).item())
    return model.eval(), curve


def saved_bytes(state) -> int:
    """Bytes ``torch.save`` writes for ``state``."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getbuffer().nbytes


def run(name, train_ids, book_val, shakespeare_val, *, steps=STEPS, batch_size=BATCH_SIZE, seed=0,
        eval_blocks=EVAL_BLOCKS, sample_tokens=150) -> dict:
    """One of :data:`RUNS` from the Shakespeare checkpoint: its trainable
    parameters, held-out losses before and after, training curve, saved
    size, a sample and the seconds it took. A loss that turned NaN or
    infinite raises FloatingPointError."""
    if name not in RUNS:
        raise ValueError(f"name must be one of {sorted(RUNS)}, got {name!r}")
    steps, batch_size = positive_int(steps, "steps"), positive_int(batch_size, "batch_size")
    eval_blocks = positive_int(eval_blocks, "eval_blocks")
    recipe = RUNS[name]
    t0 = time.perf_counter()
    model, _ = load_checkpoint(device="cpu")
    before = held_out_losses(model, book_val, shakespeare_val, eval_blocks)
    wrapped = []
    if recipe["r"] is not None:
        wrapped = lora.add_lora(model, r=recipe["r"], alpha=recipe["alpha"], seed=seed)
    n_trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    seed_everything(seed)
    model, curve = fine_tune(model, train_ids, positive_number(recipe["lr"], "lr"), steps, batch_size, seed)
    if not all(math.isfinite(loss) for loss in curve):
        step = next(i for i, loss in enumerate(curve) if not math.isfinite(loss))
        raise FloatingPointError(f"{name}: loss {curve[step]} at step {step + 1} (lr {recipe['lr']:g})")
    after = held_out_losses(model, book_val, shakespeare_val, eval_blocks)
    state = model.state_dict() if recipe["r"] is None else lora.lora_state_dict(model)
    sample = model.generate(SAMPLE_PROMPT, max_new_tokens=sample_tokens, temperature=0.8,
                            generator=torch.Generator().manual_seed(1))
    return {**recipe, "steps": steps, "batch_size": batch_size, "seed": seed,
            "trainable": n_trained, "parameters": sum(p.numel() for p in model.parameters()),
            "wrapped": len(wrapped), "before": before, "after": after, "curve": curve,
            "saved_bytes": saved_bytes(state), "sample": sample,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m textbook_utils.runs.specialising",
                                     description="Fine-tune the book's GPT on the book's prose, fully and "
                                                 "with LoRA; write losses, curves and samples as JSON.")
    cli.add_output(parser)
    parser.add_argument("--book", type=Path, default=Path(__file__).resolve().parents[3] / "book",
                        help="the book's book/ folder (its pages are the new text)")
    parser.add_argument("--steps", type=cli.count, default=STEPS)
    parser.add_argument("--batch-size", type=cli.count, default=BATCH_SIZE)
    parser.add_argument("--eval-blocks", type=cli.count, default=EVAL_BLOCKS)
    parser.add_argument("--seed", type=cli.seed, default=0)
    args = cli.parse(parser, argv)  # every value, and --out, checked before any work
    if not args.book.is_dir():
        parser.error(f"--book must be the book's book/ folder, got {args.book}")
    g = GPTConfig(vocab_size=1)  # the checkpoint's shape
    try:
        cli.check_memory(cli.gpt_training_bytes(vocab_size=65, block_size=g.block_size, n_layer=g.n_layer,
                                                n_head=g.n_head, d_model=g.d_model,
                                                batch_size=args.batch_size),
                         f"fine-tuning with --batch-size {args.batch_size}")
    except ValueError as e:
        parser.error(str(e))
    t0 = time.perf_counter()
    model, _ = load_checkpoint(device="cpu")
    train_ids, book_val, n_kept, n_dropped = book_prose(retrieval.book_passages(args.book),
                                                         model.tokenizer)
    _, _, shakespeare_val = shakespeare_data()
    runs = {}
    for name in RUNS:
        try:
            runs[name] = run(name, train_ids, book_val, shakespeare_val, steps=args.steps,
                             batch_size=args.batch_size, seed=args.seed, eval_blocks=args.eval_blocks)
        except FloatingPointError as e:
            sys.exit(f"training diverged: {e}; nothing written")
        print(f"{name}: book prose {runs[name]['before']['book prose']:.3f} -> "
              f"{runs[name]['after']['book prose']:.3f}, Shakespeare "
              f"{runs[name]['before']['Shakespeare']:.3f} -> {runs[name]['after']['Shakespeare']:.3f} "
              f"({runs[name]['seconds']} s)")
    results = {"runs": runs, "book_chars_kept": n_kept, "book_chars_dropped": n_dropped,
               "train_tokens": len(train_ids), "val_tokens": len(book_val),
               "seconds": round(time.perf_counter() - t0, 1),
               "machine": f"{platform.machine()}, {platform.processor() or platform.system()}, "
                          f"{torch.get_num_threads()} thread(s)",
               "torch": torch.__version__,
               "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
               "command": cli.command_line("textbook_utils.runs.specialising", argv)}
    args.out.save_result(results)
    print(f"wrote {args.out.path}")
    return results


if __name__ == "__main__":
    main()
