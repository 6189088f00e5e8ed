"""Where a network runs (`--device`): the neural engine, the refiner, training.

Its own small module: training imports it without the media stack (PyAV), the swap and
batch before any work."""

from __future__ import annotations

from facedub.errors import FacedubError

DEVICES = ("auto", "cpu", "cuda", "mps")


def check_device(device: str) -> None:
    """Refuse a `--device` that is none of DEVICES (before any work: the mesh engine
    without a refiner loads no network, and accepted "--device quantum" in silence)."""
    if device not in DEVICES:
        raise FacedubError(f"--device {device}: use one of {', '.join(DEVICES)}")
