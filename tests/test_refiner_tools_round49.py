"""tools/refiner_heldout.py swaps a held-out stretch only when every refiner held it out,
and tools/refiner_stages.py's stages end in the face `refine_face` gives the swap
(BENCHMARKS.md, Refiner, twenty-fourth round)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType, SimpleNamespace

import cv2
import numpy as np
import pytest

from facedub.engines.base import SwappedFace
from facedub.engines.refiner import refine_face

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tools(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import refiner_heldout
    import refiner_stages

    return SimpleNamespace(heldout=refiner_heldout, stages=refiner_stages)


def _refiner_folder(root: Path, settings: dict[str, object]) -> Path:
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"refine_settings": settings}))
    return root


def _faces(heldout: ModuleType, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """`count` faces, one every second frame, as the tool's analysed source."""
    faceset = SimpleNamespace(faces_of=lambda: [SimpleNamespace(frame=2 * k)
                                                for k in range(count)])
    monkeypatch.setattr(heldout, "analysed", lambda *args: faceset)


def test_refiners_that_split_the_source_differently_are_refused(
        tools: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _faces(tools.heldout, monkeypatch, 300)
    share_15 = _refiner_folder(tmp_path / "a", {"holdout_share": 0.15})
    halves_15 = _refiner_folder(tmp_path / "b", {"holdout_share": 0.15,
                                                  "renderings": "halves"})
    share_25 = _refiner_folder(tmp_path / "c", {"holdout_share": 0.25})
    # The halves hold out the blocks' stretch: one split.
    last, first = tools.heldout.split_frames(Path("clip.mp4"), [share_15, halves_15],
                                             tmp_path)
    assert first == 2 * 255 and last < first
    # Held out from face 225 and from face 255: the second trained on faces 225 to about
    # 250, which the first's cut would swap as held out (the tool used the first's split).
    with pytest.raises(SystemExit, match=r"split clip\.mp4 differently"):
        tools.heldout.split_frames(Path("clip.mp4"), [share_25, share_15], tmp_path)


def test_older_refiner_folders_are_read_as_refine_resumes_them(
        tools: SimpleNamespace, tmp_path: Path) -> None:
    assert tools.heldout.split_settings(_refiner_folder(tmp_path / "a", {})) == (0.15,
                                                                                "blocks")
    older = _refiner_folder(tmp_path / "b", {"holdout_every": 10})
    with pytest.raises(SystemExit, match="no held-out stretch"):
        tools.heldout.split_settings(older)


class _Smoother:
    """A refiner that blurs and brightens the face: a correction with fine detail taken
    out, which refine_face's detail steps give back."""

    res = 128

    def __call__(self, x: np.ndarray) -> np.ndarray:
        rgb = cv2.GaussianBlur(x[0, :3].transpose(1, 2, 0), (0, 0), 1.5) * 0.9 + 0.06
        return rgb.transpose(2, 0, 1)[None].astype(np.float32)  # type: ignore[no-any-return]


def test_the_stages_end_in_the_face_refine_face_gives_the_swap(
        tools: SimpleNamespace) -> None:
    """refiner_stages copies refine_face step by step: this fails when they drift."""
    rng = np.random.default_rng(0)
    size = 3 * _Smoother.res  # a crop larger than the refiner: both detail steps run
    target, face = (cv2.GaussianBlur(rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                                     (0, 0), 2) for _ in range(2))
    mask = np.zeros((size, size), dtype=np.float32)
    mask[40:340, 50:330] = 1.0
    kept = np.zeros_like(mask)
    kept[250:300, 150:230] = 0.8  # a mouth the target keeps
    swapped = SwappedFace(face, mask, kept=kept, kept_image=face)
    stages = tools.stages.stage_faces(_Smoother(), swapped, target)
    expected = refine_face(_Smoother(), swapped, target).astype(np.int16)

    def off(stage: str) -> int:
        return int(np.abs(tools.stages.as_image(stages[stage]).astype(np.int16)
                          - expected).max())

    assert off("frame sharpness") <= 1
    assert off("enlarged") > 5  # the detail steps change this face: a skipped one shows
