"""RefineConfig: everything `facedub refine` decides, frozen."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from facedub.devices import check_device
from facedub.errors import FacedubError
from facedub.models.refiner import RefinerArgs
from facedub.train.losses import LossWeights
from facedub.train.refine_data import RENDERINGS, Degradation


@dataclass(frozen=True)
class RefineConfig:
    # Architecture (saved in the folder's config.json; a resumed run must match).
    res: int = 128
    width: int = 8  # channels at full resolution, doubling per level
    levels: int = 4
    # Optimisation: small batches and a high rate learn fastest on a CPU (more updates for
    # the same arithmetic); the network is small and starts as the identity.
    batch: int = 4
    steps: int = 3000  # total steps; a resumed run continues up to this count
    minutes: float = 0.0  # also stop once training has taken this long in all; 0: no limit
    # 2e-3 threw the output out of [0, 1] for good within 100 steps on a quiet machine
    # (when the output was clamped while training); 1e-3 learns steadily (BENCHMARKS.md).
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int = 50  # steps of linear learning-rate warm-up
    grad_clip: float = 1.0
    device: str = "auto"  # auto: CUDA, then Apple MPS, then CPU
    threads: int = 0  # CPU threads for torch while training; 0: torch's default
    seed: int = 0
    # Data and loss.
    pairs_per_face: int = 2  # mesh renderings of each source face, from different sources
    # How the training renderings are made (refine_data.RENDERINGS): "blocks", alternate
    # blocks from a thinned other pool; "halves", each half of the source from the whole
    # other half, as a swap renders its target (BENCHMARKS.md, Refiner, twenty-fourth round).
    renderings: str = "blocks"
    # Probability of each degradation of the input. At 0.5 the refiner learnt mostly to
    # denoise and relight, which the compositor undoes but for the smoothing (BENCHMARKS.md).
    degrade_chance: float = 0.25
    # Variants measured against the defaults (BENCHMARKS.md, Refiner, second round); each
    # swapped worse than the defaults on the self-swap pairs, so all are off.
    # grain_in_truth: noise and JPEG hit the truth as well as the input. detail_loss: the
    # loss compares what the compositor's `--color detail` keeps of the refined face (its
    # high-pass over the truth's low-pass, train/refine_loss.py) plus whole_weight of the
    # loss on the whole face; off: the whole face's loss alone. energy_weight: of the
    # local detail energy's mismatch.
    grain_in_truth: bool = False
    detail_loss: bool = False
    whole_weight: float = 0.1
    energy_weight: float = 0.0
    eyes_mouth_weight: float = 2.0
    background_weight: float = 0.05
    # Bookkeeping.
    log_every: int = 25
    preview_every: int = 250
    save_every: int = 250
    validate_every: int = 250
    # Share of the faces held out: the last stretch of the source, after a gap (refine_data).
    # Saved in the folder's config.json; a resumed run keeps the share it started with.
    holdout_share: float = 0.15

    def __post_init__(self) -> None:
        self.model_args()  # validates res, width and levels
        check_device(self.device)
        for name in ("batch", "steps", "pairs_per_face", "log_every", "preview_every",
                     "save_every", "validate_every"):
            if getattr(self, name) < 1:
                raise FacedubError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0.0 < self.lr < 1.0:
            raise FacedubError("--lr must be between 0 and 1 (try 5e-4)")
        if not 0.0 <= self.degrade_chance <= 1.0:
            raise FacedubError("the degradation chance must be between 0 and 1")
        if self.renderings not in RENDERINGS:
            raise FacedubError(f"the renderings must be one of {', '.join(RENDERINGS)}, "
                               f"not {self.renderings!r}")
        if not 0.0 <= self.holdout_share <= 0.5:
            raise FacedubError("the held-out share must be between 0 (none) and 0.5")
        for name in ("minutes", "weight_decay", "warmup", "grad_clip", "threads",
                     "eyes_mouth_weight", "background_weight", "whole_weight",
                     "energy_weight"):
            if getattr(self, name) < 0:
                raise FacedubError(f"--{name.replace('_', '-')} must not be negative")

    def model_args(self) -> RefinerArgs:
        return RefinerArgs(res=self.res, width=self.width, levels=self.levels)

    def loss_weights(self) -> LossWeights:
        return LossWeights(eyes_mouth=self.eyes_mouth_weight,
                           background=self.background_weight)

    def degradation(self) -> Degradation:
        return Degradation(chance=self.degrade_chance, grain_in_truth=self.grain_in_truth)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
