"""The canonical frontal face: MediaPipe's 478 landmarks averaged over frontal faces.

Units: x right, y down, z away from the camera; the eye centres are 1 apart with their
midpoint at the origin. Built by tools/make_face_template.py; read once per process.
"""

from __future__ import annotations

import functools
import importlib.resources
import json

import numpy as np


@functools.cache
def face_template() -> np.ndarray:
    """(478, 3) float64 frontal template. Callers must not modify it."""
    resource = importlib.resources.files("facedub") / "data" / "face_template.json"
    data = json.loads(resource.read_text(encoding="utf-8"))
    template = np.asarray(data["landmarks"], dtype=np.float64)
    template.flags.writeable = False
    return template
