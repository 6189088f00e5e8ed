"""Training across processes with torch.distributed: `torchrun --nproc-per-node N -m
facedub train ...` (or across nodes with torchrun's rendezvous).

Every rank holds the whole model; DistributedDataParallel averages the gradients after
each backward pass (gloo on CPU, NCCL on CUDA). `--batch` stays the global batch of each
person: every step's faces are drawn from the yaw-balanced sampler exactly as in one
process, seeded by (seed, step), and rank r takes the r-th equal shard of them, so N
processes take the same steps as one (up to the order of float sums). The step is a pure
function of (seed, step) and the checkpoint holds no per-rank state, so a run resumes
with any N. Rank 0 alone writes checkpoints, previews and logs.

Two things make the sharded step equal the whole one: the reconstruction loss divides by
the pixel weights of the whole global batch (not of the shard), and the ranks agree after
every step on whether to stop (a signal reaches them at different moments), so none waits
forever for the others.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import torch
import torch.distributed as dist
from torch.distributed.rendezvous import rendezvous
from torch.nn.parallel import DistributedDataParallel

from facedub.errors import FacedubError, Terminated
from facedub.models import FaceModel
from facedub.train.data import Batch
from facedub.train.losses import LossWeights, pixel_weights

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a rank waits for the others (a rank that died leaves the rest waiting).
TIMEOUT = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class Distributed:
    """This process's place among the training processes (from torchrun's environment)."""

    rank: int
    world: int
    local_rank: int

    @property
    def leader(self) -> bool:
        """Rank 0: the one that writes checkpoints, previews and logs."""
        return self.rank == 0

    def shard(self, global_batch: int) -> slice:
        """This rank's share of a global batch of `global_batch` faces."""
        size = global_batch // self.world
        return slice(self.rank * size, (self.rank + 1) * size)

    def place(self, device: torch.device) -> torch.device:
        """The device of this rank: its own GPU (by local rank) when training on CUDA."""
        if device.type != "cuda":
            return device
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)


def from_environment(environ: Mapping[str, str] | None = None) -> Distributed | None:
    """The Distributed that torchrun's variables describe; None in a plain run."""
    env = os.environ if environ is None else environ
    world = int(env.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Distributed(rank=int(env["RANK"]), world=world,
                       local_rank=int(env.get("LOCAL_RANK", "0")))


def check_batch(global_batch: int, distributed: Distributed | None) -> None:
    if distributed is not None and global_batch % distributed.world:
        raise FacedubError(f"--batch {global_batch} is not a multiple of the {distributed.world}"
                           " processes; --batch is the global batch, split evenly")


@contextlib.contextmanager
def process_group(distributed: Distributed | None, device: torch.device) -> Iterator[None]:
    """Join the other ranks for the duration (env:// rendezvous, as torchrun sets it up):
    NCCL for CUDA, gloo otherwise. Nothing to do in a plain run."""
    if distributed is None:
        yield
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, store=_attempt_store(distributed), rank=distributed.rank,
                            world_size=distributed.world, timeout=TIMEOUT)
    log.info("rank %d of %d joined (%s)", distributed.rank, distributed.world, backend)
    try:
        yield
    except BaseException:
        dist.destroy_process_group()
        raise
    _leave_together()


def _attempt_store(distributed: Distributed) -> dist.distributed_c10d.Store:
    """torchrun's env:// store, its keys kept apart per attempt of `--max-restarts`.

    torchrun's agent serves the workers' store and keeps it across restarts (its static
    and c10d rendezvous both; measured with torch 2.13, 2 gloo processes on CPU, one rank
    stopped once): every key an attempt set is still there in the next. The process
    group's own keys among them: gloo's ranks of attempt 1 read attempt 0's addresses,
    connected to dead ports ("Gloo connectFullMesh failed ... Connection refused") and the
    restart failed, every time. A prefix per attempt gives each its own keys; the
    verdict's key (`_verdict_key`) is the attempt's own twice over."""
    store, _, _ = next(rendezvous("env://", distributed.rank, distributed.world,
                                  timeout=TIMEOUT))
    return dist.distributed_c10d.PrefixStore(f"facedub/attempt-{_attempt()}", store)


def _attempt() -> str:
    """This attempt's number among torchrun's restarts ("0" in a plain launch)."""
    return os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")


def _leave_together() -> None:
    """Free what still holds the group (the DDP wrapper's reducer sits in reference
    cycles), wait for every rank, then destroy the group. Without this a rank could
    destroy its gloo group while the other was still in its last collective, or the
    reducer's gloo work would outlive the group until interpreter exit, where gloo aborts
    the process ("terminate called without an active exception")."""
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


@contextlib.contextmanager
def leader_first(distributed: Distributed | None) -> Iterator[None]:
    """Rank 0 runs the body (creating or resuming the run folder) before the others do
    (reading it), and nobody goes on until all have."""
    if distributed is not None and not distributed.leader:
        dist.barrier()
    yield
    if distributed is not None:
        if distributed.leader:
            dist.barrier()
        dist.barrier()


# The store key under which rank 0 says how its check of the inputs ended ("0": passed,
# else the exit code it ends with), and how often the other ranks look for it.
VERDICT_KEY = "facedub/inputs-verdict"
VERDICT_POLL_SECONDS = 0.1
# How long rank 0, ending on a verdict that is not a pass, waits for every other rank to
# say it read it. Launched without torchrun's agent, rank 0 serves the store: it left at
# once, and a rank still reading the store printed TCPStore's 16-line "recvValue failed
# ... Connection was likely closed" (once in a run of the train tests under load), or
# ended with "rank 0 ended before it had checked" when it came to the store after rank 0
# had gone. A rank polls every tenth of a second once its facesets are loaded, and one
# stopped before it read (Ctrl-C reaches every rank) counts itself too; a rank slower
# than this ends as before, with that one line.
VERDICT_READ_SECONDS = 10.0


def _verdict_key() -> str:
    """VERDICT_KEY for this attempt of torchrun's `--max-restarts`. The store outlives an
    attempt (torchrun's agent keeps it; measured, see `_attempt_store`): a verdict left by
    an attempt whose rank 0 was stopped (143) would end every other rank at once, before
    rank 0 checked, on every restart."""
    return f"{VERDICT_KEY}/attempt-{_attempt()}"


class LeaderStoppedError(Exception):
    """Rank 0's check of the inputs did not pass (refused, failed or stopped): this rank
    ends too, quietly, with `exit_code` (rank 0 said why)."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"rank 0 ended with exit code {exit_code}")
        self.exit_code = exit_code


def checked_by_leader(distributed: Distributed | None, check: Callable[[], T],
                      load: Callable[[], T]) -> T:
    """Rank 0 runs `check` (loads the inputs and checks them: the explicit-content check
    of a faceset's every crop, minutes of CPU for thousands); the other ranks `load` them
    and wait for its verdict, then go on or end (LeaderStoppedError) as it did. Each rank ran
    the check itself: N times the CPU and N progress bars on one machine. A plain run
    just checks. Call it inside `process_group`.

    The verdict travels through the process group's store (which torchrun's agent holds),
    under a key of this attempt's own (`_verdict_key`), set once the check passes and on
    any exception that ends it: a refusal, an error, Ctrl-C or SIGTERM on rank 0 sets it
    too, so no rank waits forever. The others wait in Python, a tenth of a second at a time, so
    their own Ctrl-C and SIGTERM stop them as usual; rank 0 killed outright (SIGKILL)
    sets nothing, and torchrun's agent then ends the others. Rank 0 ending on a verdict
    that is not a pass waits until the others read it (VERDICT_READ_SECONDS): without an
    agent, the store leaves with it."""
    if distributed is None:
        return check()
    store = _group_store()
    key = _verdict_key()
    if distributed.leader:
        try:
            checked = check()
        except BaseException as error:
            try:
                store.set(key, str(_exit_code_of(error)))
                _wait_until_read(store, key, distributed.world)
            except Exception as failed:  # the user must read rank 0's error, not this
                # Raised from here, the store's error ("Connection reset") hid the
                # refusal or the failure that ended rank 0. The others end with the
                # store (below) or by torchrun's agent when this rank exits.
                log.warning("rank 0 could not tell the other ranks its verdict: %s", failed)
            raise
        store.set(key, "0")
        return checked
    store_gone = False
    try:
        loaded = load()
        try:
            # No time limit of its own: rank 0's check takes as long as the faceset is
            # large (minutes for thousands of crops), so any fixed limit would end a
            # healthy run. It always ends: rank 0 sets the verdict however its check ends,
            # even stopped (above); killed outright, torchrun's agent sees it exit and
            # stops this rank; without an agent its store goes with it and `store.check`
            # raises (below).
            while not store.check([key]):
                time.sleep(VERDICT_POLL_SECONDS)
            verdict = int(store.get(key))
        except (RuntimeError, ValueError) as error:  # the store went with rank 0 (no agent)
            store_gone = True
            raise FacedubError(f"rank {distributed.rank}: rank 0 ended before it had "
                               f"checked the inputs ({error}); see its message") from error
    finally:
        if not store_gone:  # read, or stopped without it: rank 0 need not wait for this rank
            with contextlib.suppress(Exception):
                store.add(_read_key(key), 1)
    if verdict:
        raise LeaderStoppedError(verdict)
    return loaded


def _read_key(key: str) -> str:
    """The store key counting the ranks that read the verdict under `key`."""
    return f"{key}/read"


def _wait_until_read(store: dist.distributed_c10d.Store, key: str, world: int) -> None:
    """Until every other rank read the verdict under `key`, at most VERDICT_READ_SECONDS."""
    deadline = time.monotonic() + VERDICT_READ_SECONDS
    while store.add(_read_key(key), 0) < world - 1 and time.monotonic() < deadline:
        time.sleep(VERDICT_POLL_SECONDS / 2)


def _exit_code_of(error: BaseException) -> int:
    """The exit code a rank ends with after `error` (as the command's own handler ends)."""
    if isinstance(error, FacedubError | OSError):  # said in one line, exit 2
        return 2
    if isinstance(error, KeyboardInterrupt):
        return 130
    if isinstance(error, Terminated):
        return error.exit_code
    return 1


def _group_store() -> dist.distributed_c10d.Store:
    """The default process group's store, where torchrun's rendezvous put it.

    Private in torch (2.13): no public call returns it. The public ways were weighed: a
    collective (`dist.broadcast` of the verdict) waits in C++, where a rank's Ctrl-C and
    SIGTERM are not heard, and ends at the group's 10-minute timeout, shorter than a large
    faceset's check; a store of our own (`dist.rendezvous("env://")` then
    `init_process_group(store=...)`) redoes torchrun's env:// rendezvous (who serves the
    store: its agent or rank 0), for one key. If torch drops it, the torchrun tests
    (tests/train/test_check_once_round46.py) fail at once."""
    return dist.distributed_c10d._get_default_store()


# What `reconstruct` gives: ((face A, mask A), (face B, mask B)), each (N, C, R, R).
Reconstructed = tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class Trainable(Protocol):
    """What a training step needs of a model: a FaceModel, or one wrapped for DDP."""

    def reconstruct(self, a: torch.Tensor, b: torch.Tensor) -> Reconstructed: ...

    def parameters(self) -> Iterator[torch.nn.Parameter]: ...


class _Reconstruction(torch.nn.Module):
    """`model.reconstruct` as a forward pass: DDP synchronises gradients through forward."""

    def __init__(self, model: FaceModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> Reconstructed:
        return self.model.reconstruct(a, b)


class DistributedModel:
    """A FaceModel whose `reconstruct` runs through DistributedDataParallel: after
    backward, every rank's gradients are the mean over all ranks."""

    def __init__(self, model: FaceModel, device: torch.device) -> None:
        ids = [device.index] if device.type == "cuda" else None
        self.ddp = DistributedDataParallel(_Reconstruction(model), device_ids=ids)

    def reconstruct(self, a: torch.Tensor, b: torch.Tensor) -> Reconstructed:
        result: Reconstructed = self.ddp(a, b)
        return result

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        return self.ddp.parameters()


def loss_normalisers(a: Batch, b: Batch, weights: LossWeights,
                     distributed: Distributed) -> tuple[torch.Tensor, torch.Tensor]:
    """The pixel-weight sums of the global batches of A and B, divided by the number of
    ranks: dividing a shard's weighted loss sum by this, DDP's mean of the ranks'
    gradients is the gradient of the global batch's loss."""
    sums = torch.stack([pixel_weights(x.masks, x.eyes_mouth, weights).float().sum()
                        for x in (a, b)]).detach()
    dist.all_reduce(sums)
    sums = sums / distributed.world
    return sums[0], sums[1]


def agree(values: dict[str, float], stopping: str | None, device: torch.device
          ) -> tuple[dict[str, float], str | None]:
    """The step's losses averaged over the ranks (the global batch's losses), and whether
    to stop: any rank's signal stops all of them after this step. Tensors travel on
    `device` (NCCL reduces GPU tensors only). The ranks take the largest signal number
    stopping any of them (MAX), so of two at once SIGTERM (15) wins over SIGINT (2) and
    both over SIGHUP (1). SIGHUP has its own code: without it a hung-up rank sent
    SIGTERM's, and the others ended with 143 while it ended with 129."""
    codes = {None: 0, "SIGHUP": int(signal.SIGHUP), "SIGINT": int(signal.SIGINT),
             "SIGTERM": int(signal.SIGTERM)}
    keys = sorted(values)
    losses = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    stops = torch.tensor([codes.get(stopping, int(signal.SIGTERM))], device=device)
    dist.all_reduce(losses)  # gloo has no AVG: sum, then divide
    dist.all_reduce(stops, op=dist.ReduceOp.MAX)
    losses /= dist.get_world_size()
    code = int(stops.item())
    reason = stopping or (signal.Signals(code).name if code else None)
    return {k: float(v) for k, v in zip(keys, losses.tolist(), strict=True)}, reason
