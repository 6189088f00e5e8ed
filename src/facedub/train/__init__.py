"""train: per-pair face-swap autoencoders (Deepfakes / DeepFaceLab method).

`train(source, target, run_dir, config)` trains or resumes a run folder (see
`facedub.train.checkpoint` for its files); `preset_config` builds a TrainConfig.
"""

from facedub.models.run import select_device
from facedub.train.config import PRESETS, TrainConfig, preset_config
from facedub.train.loop import (
    MIN_FACES,
    StatusProgress,
    TrainRun,
    check_faces,
    train,
    train_step,
)

__all__ = ["MIN_FACES", "PRESETS", "StatusProgress", "TrainConfig", "TrainRun", "check_faces",
           "preset_config", "select_device", "train", "train_step"]
