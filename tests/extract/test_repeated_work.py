"""Work an analysis does not repeat: a photo of a few megapixels costs 70-100 ms a decode
(a swap analyses its source photo on every run with a fresh work folder), and the identity
model 150-300 ms to load (not needed to reuse a finished analysis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.extract import models
from facedub.extract.config import ExtractConfig
from facedub.extract.safety import EXPLICIT_CLASSES, ExplicitContentError
from facedub.extract.workspace import analysed
from facedub.faces.identity import IdentityEncoder

PHOTO = "still_biden_frontal.jpg"


class _Scores:
    def __init__(self, score: float) -> None:
        self.score = score
        self.images: list[np.ndarray] = []

    def scores(self, image: np.ndarray) -> dict[str, float]:
        self.images.append(image)
        return {label: self.score for label in EXPLICIT_CLASSES}


@pytest.fixture()
def photo_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts `media.read_photo` by file name (probe, iter_frames and extract call it)."""
    reads: Counter[str] = Counter()
    read = media.read_photo

    def counted(path: Path) -> np.ndarray:
        reads[Path(path).name] += 1
        return read(path)

    monkeypatch.setattr(media, "read_photo", counted)
    return reads


def test_a_photo_is_decoded_three_times_not_five(faces_dir: Path, tmp_path: Path,
                                                 photo_reads: Counter[str]) -> None:
    # Once to open it (the probe checks it decodes), once for the explicit-content check,
    # once for the landmarks. The check probed it again before reading it, and `extract`
    # opened it again after `analysed` had.
    detector = _Scores(0.0)
    faceset = analysed(faces_dir / PHOTO, tmp_path / "work", ExtractConfig(crop_size=64),
                       detector=detector)
    assert len(faceset.records) == 1
    assert photo_reads[PHOTO] == 3
    assert len(detector.images) == 1  # the photo itself was checked, whole
    assert detector.images[0].shape == media.read_photo(faces_dir / PHOTO).shape


def test_a_photo_read_once_for_the_check_is_still_refused(faces_dir: Path, tmp_path: Path,
                                                          photo_reads: Counter[str]) -> None:
    work = tmp_path / "work"
    with pytest.raises(ExplicitContentError, match="refused"):
        analysed(faces_dir / PHOTO, work, ExtractConfig(crop_size=64), detector=_Scores(0.9))
    assert not any(path.is_dir() for path in work.iterdir())  # no faceset folder left


def test_a_finished_analysis_is_reused_without_loading_the_identity_model(
        faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[IdentityEncoder] = []

    class Counted(IdentityEncoder):
        def __init__(self) -> None:
            super().__init__()
            loaded.append(self)

    monkeypatch.setattr(models, "IdentityEncoder", Counted)
    work, config = tmp_path / "work", ExtractConfig(crop_size=64)
    first = analysed(faces_dir / PHOTO, work, config, detector=_Scores(0.0))
    assert len(loaded) == 1 and first.records[0].descriptor is not None
    again = analysed(faces_dir / PHOTO, work, config, detector=_Scores(0.0))
    assert len(loaded) == 1  # reused as it was
    assert len(again.records) == len(first.records) == 1
    np.testing.assert_array_equal(again.records[0].descriptor, first.records[0].descriptor)
    # A reference photo still chooses the person of the finished analysis.
    chosen = analysed(faces_dir / PHOTO, work, replace(config, person_reference=faces_dir / PHOTO),
                      detector=_Scores(0.0))
    assert len(loaded) == 2 and chosen.meta.reference_distance is not None
    assert chosen.meta.reference_distance < 0.1
