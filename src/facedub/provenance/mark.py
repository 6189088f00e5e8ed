"""mark: what every output of facedub carries, with no switch to leave it out.

- an invisible watermark in every frame (the facedub tag and this job's id);
- a visible "AI-generated" label (on by default; the only mark a user may turn off);
- signed content credentials (C2PA) inside the file, where the format has room for them;
- a `<file name>.provenance.json` sidecar (`out.mp4.provenance.json`) with the same facts.

The watermark and label are applied per frame by `OutputMarks`; the credentials by
`sign_output` on the finished file, before it is moved into place.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import facedub
from facedub import media
from facedub.faceset import is_faceset, read_meta
from facedub.fsutil import sha256_file, sha256_listing
from facedub.provenance import (
    LabelPainter,
    ProvenanceFacts,
    WatermarkEmbedder,
    WatermarkPayload,
    load_or_create_credentials,
    sign_media,
)
from facedub.provenance.manifest import MIME_TYPES, InputFact

CREDENTIALS_FOLDER = "credentials"


class OutputMarks:
    """Marks the frames of one job: label first (so the watermark covers it too), then
    the watermark. Holds per-size caches; one instance per output."""

    def __init__(self, job_id: int, visible_label: bool = True) -> None:
        self.payload = WatermarkPayload(job_id)
        self._embedder = WatermarkEmbedder(self.payload)
        self._label = LabelPainter() if visible_label else None

    def mark(self, image: np.ndarray) -> np.ndarray:
        if self._label is not None:
            image = self._label.draw(image)
        return self._embedder.embed(image)


def input_fact(role: str, path: Path) -> InputFact:
    """Name and content hash of an input: a file's sha256, a faceset's source hash, or the
    hash of a photo folder's listing (names and file hashes)."""
    path = Path(path)
    if path.is_dir():
        if is_faceset(path):
            return InputFact(role, path.name, read_meta(path).source_sha256)
        if (path / "config.json").is_file():  # a trained run: hash its config and weights
            files = [p for p in sorted(path.iterdir())
                     if p.is_file() and p.suffix in {".json", ".safetensors"}]
            return InputFact(role, path.name, sha256_listing(files))
        # A folder of photos: the hash extract gives it (names and file hashes, in order).
        return InputFact(role, path.name, sha256_listing(media.photos_in(path)))
    return InputFact(role, path.name, sha256_file(path))


def job_facts(engine: str, settings: Mapping[str, Any], inputs: Sequence[tuple[str, Path]],
              job_id: int, watermark: WatermarkPayload | None,
              now: datetime.datetime | None = None) -> ProvenanceFacts:
    """The one builder of provenance facts: hashes each (role, path) input (`input_fact`)
    and stamps `now` (default: the current time) in UTC. `watermark` None: media that
    carries no watermark (only verify's tests build such facts)."""
    created = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    return ProvenanceFacts("facedub", facedub.__version__, engine, dict(settings),
                           tuple(input_fact(role, path) for role, path in inputs),
                           job_id, created.isoformat(timespec="seconds"), watermark)


def can_embed_credentials(path: Path) -> bool:
    return Path(path).suffix.lower() in MIME_TYPES


def sign_output(staged: Path, facts: ProvenanceFacts, config_dir: Path) -> None:
    """Embed signed content credentials into the finished file in place (formats without
    room for them, such as .mkv, keep only the sidecar)."""
    if can_embed_credentials(staged):
        credentials = load_or_create_credentials(Path(config_dir) / CREDENTIALS_FOLDER)
        sign_media(staged, staged, facts, credentials)
