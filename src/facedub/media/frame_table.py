"""The frames of a video as its packets list them, without decoding: the display times
of every frame, its keyframes, and whether a decode may start at one of them.

A frame's index is its place among the packets' presentation times (as FFmpeg's decoder
gives frames: in display order, one per packet). Starting a decode at a keyframe and
naming each decoded frame by its time in this table gives the frames, and the indexes,
of a decode from the first frame, without decoding the frames before the keyframe:
`seekable` says when the table is sound enough to do so. Where it is not, readers decode
from the first frame as before.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from fractions import Fraction

import av

# Codecs whose every packet holds one displayed frame. VP8's hidden alt-ref frames (a
# packet that shows nothing) and MPEG-4's packed B-frames (two frames in one AVI packet)
# would shift an index counted in packets from one counted in decoded frames.
_ONE_FRAME_A_PACKET = frozenset({"h264", "hevc", "vp9", "av1", "mpeg4", "mpeg2video",
                                 "mjpeg", "prores"})


# Containers whose frames are misnamed right after a seek: an MPEG program stream (.mpg,
# .vob) stamps a PES packet, not a picture, and the first picture decoded after a seek
# took the time of another (an MPEG-2 open GOP's keyframe 9 came out as frame 12). Its
# packets' keyframe flags mark P pictures too. A window there syncs on an intra picture
# as the decoder reports it, not on the table's keyframes (`FrameTable.resync`).
_UNSTAMPED_AFTER_SEEK = frozenset({"mpeg", "vob", "mpegvideo"})


@dataclass(frozen=True)
class FrameTable:
    """`stamps`: every frame's presentation time in `time_base` units, ascending (index
    order); `keyframes`: the indexes of the keyframes; `seekable`: stamps are unique, no
    packet lacks one or is marked to be dropped, and the codec shows one frame a packet."""

    stamps: tuple[int, ...]
    keyframes: tuple[int, ...]
    time_base: Fraction
    seekable: bool
    # A decode after a seek starts at an intra picture the decoder reports, not at a
    # listed keyframe, and passes over frames until the names run in order from there
    # (an MPEG program stream, `_UNSTAMPED_AFTER_SEEK`).
    resync: bool = False

    def times(self) -> list[float]:
        """Seconds since the first frame, as `media.iter_frames` stamps frames."""
        zero = self.stamps[0] if self.stamps else 0
        return [float((stamp - zero) * self.time_base) for stamp in self.stamps]

    def keyframe_at_or_before(self, index: int) -> int:
        """The last keyframe whose index is at most `index` (0 if none)."""
        place = bisect.bisect_right(self.keyframes, index)
        return self.keyframes[place - 1] if place else 0

    def index_of(self, stamp: int | None) -> int | None:
        """The index of the frame shown at `stamp`; None when no frame is."""
        if stamp is None:
            return None
        place = bisect.bisect_left(self.stamps, stamp)
        return place if place < len(self.stamps) and self.stamps[place] == stamp else None


def frame_table(container: av.container.InputContainer, stream: av.VideoStream
                ) -> FrameTable:
    """Read `stream`'s packets (from the start of `container`; nothing is decoded)."""
    stamped: list[tuple[int, bool]] = []
    sound = stream.codec_context.name in _ONE_FRAME_A_PACKET
    for packet in container.demux(stream):
        if not packet.size:  # the demuxer's end-of-stream flush packet
            continue
        if packet.pts is None or packet.is_discard:
            sound = False
            continue
        stamped.append((int(packet.pts), bool(packet.is_keyframe)))
    stamped.sort()
    stamps = tuple(stamp for stamp, _ in stamped)
    unique = all(a < b for a, b in itertools.pairwise(stamps))
    return FrameTable(stamps, tuple(n for n, (_, key) in enumerate(stamped) if key),
                      Fraction(stream.time_base or Fraction(1, 90000)), sound and unique,
                      container.format.name in _UNSTAMPED_AFTER_SEEK)
