"""The target's landmark filter lets the mouth keep up with speech and keeps the skull
steady (issue 17: a lagging jaw shut the swapped mouth while the target's was open)."""

from __future__ import annotations

import numpy as np

from facedub.composite.mouth import SpeechFilter, lower_face_share
from facedub.composite.smooth import OneEuroFilter
from facedub.faces.regions import NOSE_TIP, mesh_regions
from facedub.faces.template import face_template

FPS = 30.0


def _face() -> np.ndarray:
    return face_template().astype(np.float64) * 100.0 + 250.0  # (478, 3), about 200 px


def test_lower_face_share_runs_from_the_nose_to_the_lips() -> None:
    share = lower_face_share()
    regions = mesh_regions()
    assert share[NOSE_TIP] == 0.0 and share[regions.left_eye].max() == 0.0
    assert share[regions.lips_outer].min() == 1.0 and share[152] == 1.0  # 152: chin


def test_jaw_follows_an_opening_mouth_within_a_few_frames() -> None:
    face, jaw = _face(), lower_face_share() == 1.0
    speech, plain = SpeechFilter(), OneEuroFilter()
    for frame in range(10):  # a still face: both filters settle
        speech(frame / FPS, face, scale=200.0)
        plain(frame / FPS, face, scale=200.0)
    opened = face.copy()
    opened[jaw, 1] += 20.0  # the jaw drops by a tenth of the face
    for frame in range(10, 13):
        followed = speech(frame / FPS, opened, scale=200.0)
        lagged = plain(frame / FPS, opened, scale=200.0)
    assert (followed[jaw, 1] - face[jaw, 1]).min() > 0.8 * 20.0
    assert (lagged[jaw, 1] - face[jaw, 1]).min() < (followed[jaw, 1] - face[jaw, 1]).min()


def test_skull_stays_steady() -> None:
    rng = np.random.default_rng(0)
    face, skull = _face(), lower_face_share() == 0.0
    speech = SpeechFilter()
    outputs = [speech(frame / FPS, face + rng.normal(0.0, 0.5, face.shape), scale=200.0)
               for frame in range(60)]
    jitter = np.std([out[skull, :2] for out in outputs[20:]], axis=0).mean()
    assert jitter < 0.3  # the raw points jitter by 0.5 px


def test_the_face_keeps_up_with_a_moving_head() -> None:
    # Filtered point by point, the face trailed a head moving 3 px a frame by 0.8 px.
    face, speech = _face(), SpeechFilter()
    for frame in range(30):
        moved = face + np.array([3.0 * frame, -1.0 * frame, 0.0])
        followed = speech(frame / FPS, moved, scale=200.0)
    assert np.linalg.norm(followed[:, :2] - moved[:, :2], axis=1).mean() < 0.4
