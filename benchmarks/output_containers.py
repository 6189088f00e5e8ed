"""Output containers: what writing a swap's frames costs in each, and what survives.

For each clip, the first `--seconds` seconds are marked with the watermark (as the swap
stage does) and written to every output container facedub offers, with the clip's audio
(copied or transcoded, as planned). Reported per container: encode speed (frames/s,
writing only), file size, what happened to the audio, how long the output's audio runs
against the video, and the watermark read back (detection score, payload correct).

Usage: python benchmarks/output_containers.py [--seconds 4] [--preset veryfast] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import av

from facedub import media
from facedub.provenance.watermark import WatermarkEmbedder, WatermarkPayload, read_watermark

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces"
CLIPS = ("clip_openface_changelighting_torch_moving_light.wmv",  # WMV2 + WMA
         "clip_sadtalker_hdtf_katiehill_headturn.mp4",  # MPEG-4 Part 2 + AAC
         "clip_liveportrait_d12_man_glasses_headturn_hand.mp4")  # H.264 + AAC


def marked_frames(clip: Path, seconds: float, payload: WatermarkPayload) -> list[media.Frame]:
    embedder = WatermarkEmbedder(payload)
    frames = []
    for frame in media.iter_frames(clip):
        if frame.time >= seconds:
            break
        frames.append(media.Frame(frame.index, frame.time, embedder.embed(frame.image)))
    return frames


def audio_span(path: Path) -> float | None:
    """Seconds from the first to the end of the last decoded audio frame."""
    first, end = None, 0.0
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        for frame in container.decode(audio=0):
            start = end if frame.time is None else frame.time
            first = start if first is None else first
            end = start + frame.samples / frame.sample_rate
    return None if first is None else end - first


def measure(clip: Path, frames: list[media.Frame], out: Path, seconds: float, preset: str,
            payload: WatermarkPayload) -> dict[str, object]:
    info = media.probe(clip)
    start = time.perf_counter()
    with media.VideoWriter(out, info.width, info.height, info.fps, preset=preset,
                           audio_from=clip, audio_end=seconds) as writer:
        for frame in frames:
            writer.write(frame.image, frame.time)
    elapsed = time.perf_counter() - start
    reading = read_watermark(out)
    return {"clip": clip.name, "container": out.suffix, "frames": len(frames),
            "encode_fps": round(len(frames) / elapsed, 1), "kbytes": out.stat().st_size // 1024,
            "audio": [t.describe() for t in writer.audio_tracks],
            "audio_seconds": audio_span(out), "video_seconds": round(frames[-1].time, 3),
            "watermark_score": round(reading.score, 1),
            "payload_correct": reading.payload == payload}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--out", type=Path, default=Path("output_containers.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for number, name in enumerate(CLIPS):
            clip = FACES / name
            payload = WatermarkPayload(job_id=101 * (number + 1))
            frames = marked_frames(clip, args.seconds, payload)
            for suffix in media.VIDEO_OUTPUT_SUFFIXES:
                out = Path(folder) / f"{clip.stem}{suffix}"
                rows.append(measure(clip, frames, out, args.seconds, args.preset, payload))
    print("| clip | out | encode fps | kB | audio | audio s / video s | watermark |")
    print("| --- | --- | ---: | ---: | --- | ---: | --- |")
    for row in rows:
        audio = "; ".join(row["audio"]) or "none"  # type: ignore[arg-type]
        mark = f"{'ok' if row['payload_correct'] else 'MISS'} {row['watermark_score']}"
        span = row["audio_seconds"]
        seconds = "-" if span is None else f"{span:.3f} / {row['video_seconds']:.3f}"
        print(f"| {str(row['clip'])[:24]} | {row['container']} | {row['encode_fps']} | "
              f"{row['kbytes']} | {audio} | {seconds} | {mark} |")
    args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
