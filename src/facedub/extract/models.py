"""The analysis's models, loaded once and shared by the analyses of one swap.

A first swap analyses two inputs, its source and its target; each analysis loaded its own
NudeNet (the explicit-content check, about 150 ms of CPU) and dlib's recognition model
(identity descriptors, 150-300 ms). `AnalysisModels` loads each on first use, once, and
hands the same one to every analysis given it. Nothing is loaded for an analysis that is
only reused.
"""

from __future__ import annotations

import threading

from facedub.extract.safety import ExplicitContentDetector, NudeNetDetector
from facedub.faces.identity import IdentityEncoder


class AnalysisModels:
    """Lazily loaded, shared models. Safe to use from several threads (the content check
    runs on a thread of its own; a source and a target may be analysed at once).

    `detector` replaces NudeNet (tests); the check itself always runs."""

    def __init__(self, detector: ExplicitContentDetector | None = None) -> None:
        self._detector = detector
        self._encoder: IdentityEncoder | None = None
        self._lock = threading.Lock()

    def detector(self) -> ExplicitContentDetector:
        with self._lock:
            if self._detector is None:
                self._detector = NudeNetDetector()
            return self._detector

    def encoder(self) -> IdentityEncoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = IdentityEncoder()
            return self._encoder
