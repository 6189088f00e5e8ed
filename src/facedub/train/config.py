"""TrainConfig: everything `facedub train` decides, frozen; and the named presets.

The CLI starts from a preset (`--preset`, "cpu" by default) and replaces the fields the
user gave on the command line: `preset_config("gpu-128", steps=50_000)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from facedub.devices import check_device
from facedub.errors import FacedubError
from facedub.models import MODELS, ModelArgs
from facedub.models.layers import RESOLUTIONS
from facedub.train.data import Augmentation
from facedub.train.losses import LossWeights


@dataclass(frozen=True)
class TrainConfig:
    # Architecture (saved in the run's config.json; a resumed run must match).
    model: str = "df"
    res: int = 64
    width: int = 32  # encoder channels at full resolution, doubling per downscale
    latent: int = 128  # dense bottleneck size
    decoder_width: int = 16  # decoder channels at full resolution, doubling inwards
    # Optimisation.
    batch: int = 8  # faces of each person per step
    steps: int = 20_000  # total steps; a resumed run continues up to this count
    lr: float = 5e-4
    weight_decay: float = 1e-4
    warmup: int = 100  # steps of linear learning-rate warm-up
    grad_clip: float = 1.0  # maximum gradient norm
    device: str = "auto"  # auto: CUDA, then Apple MPS, then CPU
    threads: int = 0  # CPU threads for torch while training; 0: torch's default
    seed: int = 0
    # Loss.
    dssim_weight: float = 1.0
    l1_weight: float = 1.0
    mask_weight: float = 1.0
    eyes_mouth_weight: float = 2.0
    background_weight: float = 0.05
    # Sampling and augmentation.
    yaw_bin: float = 10.0  # degrees per yaw bin for balanced sampling
    yaw_balance: float = 0.75  # 0: sample faces as they come, 1: every yaw bin equally
    warp: float = 0.5  # strength of the random non-linear warp of the input; 0 turns it off
    flip: bool = True
    rotate: float = 10.0  # degrees, at most
    scale: float = 0.05  # relative, at most
    shift: float = 0.05  # share of the crop side, at most
    colour: float = 0.1  # strength of brightness, contrast and saturation jitter
    # Bookkeeping.
    log_every: int = 50
    preview_every: int = 500
    save_every: int = 500
    validate_every: int = 500
    holdout_every: int = 20  # hold out every Nth face of each person for validation; 0: none

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise FacedubError(f"--model {self.model}: use one of {', '.join(MODELS)}")
        if self.res not in RESOLUTIONS:
            raise FacedubError(f"--res {self.res}: use one of {', '.join(map(str, RESOLUTIONS))}")
        check_device(self.device)
        self.model_args()  # validates widths
        positive = ("batch", "steps", "log_every", "preview_every", "save_every",
                    "validate_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise FacedubError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0.0 < self.lr < 1.0:
            raise FacedubError("--lr must be between 0 and 1 (try 2e-4)")
        if not 0.0 <= self.yaw_balance <= 1.0:
            raise FacedubError("--yaw-balance must be between 0 and 1")
        if self.holdout_every < 0 or self.holdout_every == 1:
            raise FacedubError("--holdout-every must be 0 (none) or at least 2")
        for name in ("threads", "weight_decay", "warmup", "grad_clip", "warp", "rotate", "scale",
                     "shift", "colour", "yaw_bin", "dssim_weight", "l1_weight",
                     "mask_weight", "eyes_mouth_weight", "background_weight"):
            if getattr(self, name) < 0:
                raise FacedubError(f"--{name.replace('_', '-')} must not be negative")

    def model_args(self) -> ModelArgs:
        return ModelArgs(res=self.res, width=self.width, latent=self.latent,
                         decoder_width=self.decoder_width)

    def loss_weights(self) -> LossWeights:
        return LossWeights(dssim=self.dssim_weight, l1=self.l1_weight, mask=self.mask_weight,
                           eyes_mouth=self.eyes_mouth_weight,
                           background=self.background_weight)

    def augmentation(self) -> Augmentation:
        return Augmentation(warp=self.warp, flip=self.flip, rotate=self.rotate,
                            scale=self.scale, shift=self.shift, colour=self.colour)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# "cpu" (the defaults above) reconstructs held-out 64 px faces at SSIM 0.8 after about
# 1000 steps, 15 to 20 minutes on two shared cores (benchmarks/time_to_quality.py): small
# batches, a high learning rate and a mild warp learn fastest there. The GPU presets follow
# DeepFaceLab's SAEHD defaults for 128 and 256 px, with the full warp.
PRESETS: dict[str, TrainConfig] = {
    "cpu": TrainConfig(),
    "gpu-128": TrainConfig(res=128, width=64, latent=256, decoder_width=48, batch=32,
                           steps=100_000, lr=2e-4, warp=1.0, save_every=2000,
                           preview_every=2000, validate_every=2000, log_every=100),
    "gpu-256": TrainConfig(res=256, width=64, latent=256, decoder_width=64, batch=16,
                           steps=200_000, lr=1e-4, warp=1.0, save_every=2000,
                           preview_every=2000, validate_every=2000, log_every=100),
}


def preset_config(name: str = "cpu", **overrides: Any) -> TrainConfig:
    """The preset `name` with the given fields replaced (None values are ignored, so the
    CLI can pass every option it has)."""
    if name not in PRESETS:
        raise FacedubError(f"--preset {name}: use one of {', '.join(PRESETS)}")
    known = {field.name for field in fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"TrainConfig has no field(s) {', '.join(unknown)}")
    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(PRESETS[name], **given)
