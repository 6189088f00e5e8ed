"""Test clips cut without re-encoding, so the original keyframes stay where they were."""

from __future__ import annotations

from pathlib import Path

import av


def remuxed_excerpt(source: Path, seconds: float, out: Path) -> Path:
    """The first `seconds` of `source` (video and audio packets copied as they are)."""
    with av.open(str(source)) as reader, av.open(str(out), mode="w") as writer:
        streams = {s.index: writer.add_stream_from_template(s)
                   for s in (reader.streams.video[0], *reader.streams.audio[:1])}
        for packet in reader.demux(*[reader.streams[i] for i in streams]):
            if packet.dts is None or packet.pts is None:
                continue
            if float(packet.pts * packet.time_base) >= seconds:
                continue
            packet.stream = streams[packet.stream.index]
            writer.mux(packet)
    return out
