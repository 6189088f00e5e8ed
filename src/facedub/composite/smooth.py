"""Temporal smoothing of landmarks: the One Euro filter.

Casiez, Roussel and Vogel, "1€ Filter: A Simple Speed-based Low-pass Filter for Noisy
Input in Interactive Systems" (CHI 2012): a low-pass filter whose cutoff rises with speed,
so a still face stops jittering while a fast head turn is still followed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OneEuroFilter:
    """Filters arrays of any shape over time. `scale` normalises speed (pass the face's
    size in pixels), so the same settings suit small and large faces."""

    min_cutoff: float = 2.0  # Hz, cutoff when still: lower is steadier
    beta: float = 20.0  # how fast the cutoff rises with speed (in face sizes per second)
    derivative_cutoff: float = 4.0  # Hz
    _value: np.ndarray | None = field(default=None, init=False)
    _speed: np.ndarray | None = field(default=None, init=False)
    _time: float = field(default=0.0, init=False)

    def __call__(self, time: float, value: np.ndarray, scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._value is None or self._speed is None or time <= self._time:
            self._value, self._speed, self._time = value, np.zeros_like(value), time
            return value
        elapsed = time - self._time
        speed = (value - self._value) / elapsed / max(scale, 1e-6)
        speed_alpha = _alpha(self.derivative_cutoff, elapsed)
        self._speed = self._speed + speed_alpha * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        alpha = _alpha_array(cutoff, elapsed)
        self._value = self._value + alpha * (value - self._value)
        self._time = time
        return self._value


def _alpha(cutoff: float, elapsed: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / elapsed)


def _alpha_array(cutoff: np.ndarray, elapsed: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / elapsed)
