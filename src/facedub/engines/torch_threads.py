"""Torch's intra-op thread count for one inference call of an engine or refiner.

torch's default is a thread per core. Inside a swap the decode, engine and compositing
threads keep the cores busy, and torch's OpenMP team spun against them: a refiner
folder's face took 110-200 ms of wall on two threads against 19 on one (headturn-man,
d18-s0); a neural run folder's 64 px face (cpu preset) 31-337 ms on two threads
against 14 on one alone (2 cores, load about 4), though inside a swap at that load its
40 faces took 1.65 s against 1.50 (medians of 5). Outputs bit-identical (BENCHMARKS.md,
Refiner, twenty-second round, and its neural engine part). torch is imported in the
call, so a module that only names this one (an .onnx refiner) loads no torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# Intra-op threads for one face's inference: one, as the exported graphs' sessions.
TORCH_INFERENCE_THREADS = 1


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Runs the block with torch on `threads` intra-op threads and puts the count back
    after. The count is the calling thread's; a thread already running torch work keeps
    its own. `torch.set_num_threads` also sets torch's process-wide default, though, and
    a thread whose first torch work starts inside the block takes `threads` for good
    (no swap starts one there today). No per-thread setter exists; setting the count
    once per swap instead would need the swap's code."""
    import torch  # loaded already with the model; a dict lookup per call

    previous = torch.get_num_threads()
    if previous != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if previous != threads:
            torch.set_num_threads(previous)
