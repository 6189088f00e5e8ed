"""The watermark reader's second weighting is another chance for noise: where it is the
stronger reading, its score counts `LATER_READING_MARGIN` less against the threshold, so an
unmarked file reads "found" no more often than the union's bound allows."""

from __future__ import annotations

import numpy as np

from facedub.provenance import pattern as pt
from facedub.provenance.search import LATER_READING_MARGIN, find_geometry
from facedub.provenance.watermark import (
    DEFAULT_KEY,
    WatermarkPayload,
    _keyed_patterns,
    embed_watermark,
)


def _readings() -> tuple[np.ndarray, np.ndarray]:
    """The primary reading of a marked and of an unmarked noise picture."""
    rng = np.random.default_rng(7)
    picture = np.clip(rng.normal(128, 20, (512, 512, 3)), 0, 255).astype(np.uint8)
    marked = embed_watermark(picture, WatermarkPayload(job_id=4242))
    return pt.whitened_lumas(marked)[0], pt.whitened_lumas(picture)[0]


def test_a_later_reading_counts_less_than_the_first() -> None:
    keyed = _keyed_patterns(DEFAULT_KEY)
    fine = pt.Matcher(keyed.sync, keyed.data, pt.READ_CHIP_PX)
    coarse = pt.Matcher(keyed.sync, keyed.data, pt.READ_CHIP_PX // 2)
    marked, unmarked = _readings()
    first = find_geometry([marked, unmarked], fine, coarse)
    later = find_geometry([unmarked, marked], fine, coarse)
    assert first.found and first.reading == 0
    assert later.reading == 1
    assert later.z == first.z - LATER_READING_MARGIN
