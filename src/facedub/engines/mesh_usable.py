"""Whether the mesh engine can make a face from a source at all.

The engine warps the source's texture over the whole landmark mesh; what a source turned
to a profile does not show (the far eye, cheek and brow) comes from its mirror image or the
target's own skin. From a profile photo that gave a mangled face on every frame (the eyes
smeared into the lids, the target's brows doubled above the source's, a pale patch on the
cheek; still_woman_profile_left, 55 degrees as the landmarks read it, onto d10) while the
CLI said only "40/40 frames swapped". So a source none of whose faces is turned less than
`USABLE_YAW_DEGREES` is refused before any frame is swapped, with what to use instead.

A source with some usable faces is used as it is, its turned faces too: the engine picks
the faces nearest each target face's pose, and a target turned as far may want them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facedub.errors import FacedubError

# The evaluation's own edge of its last head-turn bin (evaluate.config.YAW_BINS, ">45"),
# chosen before the faces inside the gap were tried, and the gap's faces agree. Every shared
# source that swaps reads at most 23 degrees (the 13 benchmark sources; Jolie's
# three-quarter photo 18, Kit Harington's turned one 22); single frames of a man turning
# away (the MetricalTracker clip's frames 138-157 as photos, 30 to 43 degrees) give a whole
# face onto d10, its frame 168 (45.4) smeared irises and a pale scar across the nose
# bridge, the profile photo (55) a mangled face (BENCHMARKS.md, forty-third round). The
# landmarks' pose reads a turned face as turned less than it is (the profile is 70-80
# degrees by eye): this is a reading, not a true 45.
USABLE_YAW_DEGREES = 45.0


def check_usable(yaws: Sequence[float] | np.ndarray, source: Path) -> None:
    """FacedubError naming `source` and its turn where every face's yaw (degrees, the
    landmark head pose of the source's faces) is `USABLE_YAW_DEGREES` or more either way;
    nothing otherwise."""
    turns = np.abs(np.asarray(yaws, dtype=np.float64))
    if turns.size == 0 or bool((turns < USABLE_YAW_DEGREES).any()):
        return
    limit = f"{USABLE_YAW_DEGREES:.0f}"
    if turns.size == 1:
        turned = f"its face is turned {turns[0]:.0f} degrees from the camera (a profile)"
    else:
        turned = (f"all its {turns.size} faces are turned {turns.min():.0f} to "
                  f"{turns.max():.0f} degrees from the camera (profiles)")
    raise FacedubError(f"{source}: {turned}; the mesh engine cannot make a whole face from "
                       f"it: use a photo or video where the face is turned less than {limit} "
                       "degrees")
