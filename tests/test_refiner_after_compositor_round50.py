"""tools/refiner_after_compositor.py: its loss reads the evaluation's SSIM, and its
network starts as the identity (BENCHMARKS.md, Refiner, twenty-fifth round)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
import torch

from facedub import media
from facedub.evaluate import realism
from facedub.train.refine_crop_loss import gaussian_window, luma, ssim_map

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import refiner_after_compositor

    return refiner_after_compositor


def _frames(faces_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """A real frame's middle (RGB uint8) and the same blurred: a softer face."""
    frame = next(media.iter_frames(faces_dir / "clip_liveportrait_d3_woman_headturn.mp4"))
    height, width = frame.image.shape[:2]
    crop = np.ascontiguousarray(frame.image[height // 4: height // 4 + 128,
                                            width // 4: width // 4 + 128])
    return crop, cv2.GaussianBlur(crop, (0, 0), 1.2)


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]


def test_the_loss_reads_the_evaluations_ssim(faces_dir: Path) -> None:
    # The tool trains on the composited stage's own loss (refine_crop_loss.shown_loss).
    target, soft = _frames(faces_dir)
    region = np.zeros(target.shape[:2], dtype=bool)
    region[16:-16, 16:-16] = True
    evaluated = realism.fidelity(target, soft, region).ssim
    ssim = ssim_map(luma(_tensor(soft)), luma(_tensor(target)),
                    gaussian_window())[0, 0].numpy()
    # The evaluation reads OpenCV's grey of the uint8 crops (rounded to whole levels).
    assert float(ssim[region].mean()) == pytest.approx(evaluated, abs=2e-3)
    assert evaluated < 0.99  # the blur is a real loss of SSIM to read


def test_the_untrained_network_gives_the_composited_crop_back(
        tool: ModuleType, faces_dir: Path) -> None:
    target, _ = _frames(faces_dir)
    alpha = torch.ones((1, 1, *target.shape[:2]))
    shown = _tensor(target)
    assert torch.equal(tool.AfterCompositor()(shown, alpha), shown)


def test_the_weights_are_saved_as_safetensors_whole(tool: ModuleType, tmp_path: Path) -> None:
    # Its weights come from real faces: safetensors (no pickle), written atomically.
    import safetensors.torch

    model = tool.AfterCompositor()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter)
    path = tmp_path / tool.WEIGHTS
    tool.save_weights(model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["best.safetensors"]
    saved = safetensors.torch.load_file(str(path))
    assert saved.keys() == model.state_dict().keys()
    again = tool.AfterCompositor()
    tool.load_weights(again, path)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(),
                                                 model.state_dict().values(), strict=True))
    source = (ROOT / "tools" / "refiner_after_compositor.py").read_text()
    assert "torch.save(" not in source and "torch.load(" not in source
