"""tools/identity_regions.py's `--video` donors: another swap's frames of the same clip,
pasted into a region (the person path's whole frame, the filled path's crop cut as eval
cuts the output's), so that a region's change tells which stage of the swap holds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@pytest.fixture
def tool(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(TOOLS))
    import identity_regions

    return identity_regions


def test_video_donors_are_named_and_used_by_default(tool: Any) -> None:
    given = tool.options(["--video", "wide=/tmp/a.mp4", "--regions", "forehead,chin",
                          "--video", "plain=/tmp/b.mp4", "S.jpg", "T.mp4", "W.mp4", "13-15"])
    assert given.videos == {"wide": Path("/tmp/a.mp4"), "plain": Path("/tmp/b.mp4")}
    assert given.donors == (*tool.DONORS, "wide", "plain")
    assert given.regions == ("forehead", "chin")
    assert (given.source, given.target, given.swapped) == (Path("S.jpg"), Path("T.mp4"),
                                                           Path("W.mp4"))
    assert given.wanted == {13, 14, 15}


def test_donors_named_leave_the_videos_out_unless_listed(tool: Any) -> None:
    given = tool.options(["--video", "wide=/tmp/a.mp4", "--donors", "source,wide",
                          "S.jpg", "T.mp4", "W.mp4"])
    assert given.donors == ("source", "wide")
    assert given.wanted is None


def test_video_donor_is_the_same_frame_whole_or_cut_like_the_output(tool: Any) -> None:
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (60, 80, 3), dtype=np.uint8) for _ in range(3)]
    assert tool.video_donor(frames, 1, None, 32) is frames[1]
    # A crop of the frame's box from (10, 20), at half scale: eval's face_from_frame.
    face_from_frame = np.array([[0.5, 0.0, -10.0], [0.0, 0.5, -5.0]])
    crop = tool.video_donor(frames, 2, face_from_frame, 16)
    assert crop.shape == (16, 16, 3)
    from facedub.faces.geometry import warp_to_face

    assert np.array_equal(crop, warp_to_face(frames[2], face_from_frame, 16))
    assert not np.array_equal(crop, warp_to_face(frames[1], face_from_frame, 16))
