"""Which of a file's video streams is its video.

Phones and editors put a cover picture (an attached picture: one JPEG or PNG) or a
thumbnail track beside the video in MP4, M4V, MOV and Matroska, often as the first video
stream. Every reader of a target (its probe, the frame decoder, the keyframe plan of a
long swap, the audio's alignment to the first frame) takes the stream this module picks,
so they all agree on one.
"""

from __future__ import annotations

from pathlib import Path

import av

from facedub.errors import FacedubError


def video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    """`best_video`, or a one-line FacedubError when the file holds only pictures or no
    video stream at all."""
    stream = best_video(container)
    if stream is not None:
        return stream
    if container.streams.video:
        raise FacedubError(f"{path}: holds only a still picture (a cover image), no video; "
                           "give a video or photo file")
    raise FacedubError(f"{path}: has no video stream; give a video or photo file")


def best_video(container: av.container.InputContainer) -> av.VideoStream | None:
    """FFmpeg's best video stream (`av_find_best_stream`: the default one first, then one
    with frames to probe rather than a single picture, then the highest bit rate), never
    an attached picture; None when there is none."""
    moving = {s.index: s for s in container.streams.video if not _is_picture(s)}
    if not moving:
        return None
    best = container.streams.best("video")
    # FFmpeg ranks a cover picture marked "default" above an unmarked video: passed over.
    if best is not None and best.index in moving:
        return moving[best.index]
    return next(iter(moving.values()))


def _is_picture(stream: av.VideoStream) -> bool:
    # a cover (attached picture) or a track of thumbnails at times: neither is the video
    return bool(stream.disposition & (av.stream.Disposition.attached_pic
                                      | av.stream.Disposition.timed_thumbnails))
