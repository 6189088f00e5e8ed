"""`facedub swap` on a Windows Media target (WMV2 video, WMA audio), as a user runs it: the
audio that MP4 cannot carry is transcoded, kept in step, and the provenance says so."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from facedub.cli import app

TORCH = "clip_openface_changelighting_torch_moving_light.wmv"  # clip 13: WMV2 + WMA 32 kHz
SOURCE_PHOTO = "still_paul_rudd_frontal_studio.jpg"
SECONDS = 1.2


def _short_wmv(source: Path, out: Path) -> Path:
    """The first SECONDS of a WMV, half size, its WMA audio copied: a target that is quick
    to swap and still Windows Media through and through."""
    with av.open(str(source)) as original, av.open(str(out), "w", format="asf") as short:
        video_in = original.streams.video[0]
        video = short.add_stream("wmv2", rate=video_in.average_rate or 15)
        video.width, video.height = video_in.width // 2, video_in.height // 2
        video.pix_fmt = "yuv420p"
        video.bit_rate = 2_000_000
        video.codec_context.time_base = Fraction(1, 1000)
        audio = short.add_stream_from_template(original.streams.audio[0])
        for packet in original.demux():
            if packet.pts is None or float(packet.pts * packet.time_base) > SECONDS:
                continue
            if packet.stream.type == "audio":
                packet.stream = audio
                short.mux(packet)
                continue
            for frame in packet.decode():
                assert isinstance(frame, av.VideoFrame)
                small = frame.reformat(video.width, video.height, "yuv420p")
                small.pts, small.time_base = round(frame.time * 1000), Fraction(1, 1000)
                short.mux(video.encode(small))
        short.mux(video.encode(None))
    return out


def _timeline(path: Path) -> tuple[list[float], float, float]:
    """Video frame times, first audio time, audio end (seconds), decoded to the end."""
    with av.open(str(path)) as container:
        times = [f.time for f in container.decode(video=0) if f.time is not None]
    clock, first = 0.0, None
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            start = clock if frame.time is None else frame.time
            first = start if first is None else first
            clock = start + frame.samples / frame.sample_rate
    assert first is not None
    return times, first, clock


def test_swap_a_windows_media_target_into_mp4_transcodes_its_audio(
        faces_dir: Path, tmp_path: Path) -> None:
    target = _short_wmv(faces_dir / TORCH, tmp_path / "torch.wmv")
    out = tmp_path / "swapped.mp4"
    result = CliRunner().invoke(app, [
        "swap", "--source", str(faces_dir / SOURCE_PHOTO), "--target", str(target),
        "-o", str(out), "--work-dir", str(tmp_path / "work"), "--preset", "ultrafast"])
    assert result.exit_code == 0, result.output
    assert "audio 1: wmav2 transcoded to aac (MP4 does not carry wmav2)" in result.output
    facts = json.loads(out.with_name(out.name + ".provenance.json").read_text())["facts"]
    (track,) = facts["settings"]["audio"]
    assert (track["codec"], track["action"], track["output_codec"]) == (
        "wmav2", "transcode", "aac")
    with av.open(str(out)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
    frames_in, audio_in, end_in = _timeline(target)
    frames_out, audio_out, end_out = _timeline(out)
    assert len(frames_out) == len(frames_in)
    frame = 1 / 15
    # Times count from the first video frame; the audio keeps its place and its length.
    assert frames_out[-1] == pytest.approx(frames_in[-1] - frames_in[0], abs=frame)
    assert end_out == pytest.approx(end_in - frames_in[0], abs=frame)
    assert audio_out <= max(0.0, audio_in - frames_in[0]) + frame


def test_an_unwritable_output_extension_is_refused_before_any_work(
        faces_dir: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "facedub", "swap", "--source",
               str(faces_dir / SOURCE_PHOTO), "--target", str(faces_dir / TORCH),
               "-o", str(tmp_path / "out.gif"), "--work-dir", str(tmp_path / "work")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120,
                               check=False)
    assert completed.returncode == 2
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "out.gif" in lines[0] and ".mp4" in lines[0], lines
    assert list(tmp_path.iterdir()) == []  # no output, no analysis cache


@pytest.mark.slow
def test_swap_clip_14_onto_the_whole_of_clip_13_through_the_installed_command(
        faces_dir: Path, tmp_path: Path) -> None:
    """The issue's own command: both Windows Media, the output MP4 (about 1.5 min)."""
    out = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "facedub", "swap", "--source",
               str(faces_dir / "clip_openface_default_same_person_webcam.wmv"),
               "--target", str(faces_dir / TORCH), "-o", str(out),
               "--work-dir", str(tmp_path / "work")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert "audio 1: wmav2 transcoded to aac" in completed.stderr
    frames_in, _, end_in = _timeline(faces_dir / TORCH)
    frames_out, audio_out, end_out = _timeline(out)
    assert len(frames_out) == len(frames_in) == 88
    assert audio_out == pytest.approx(0.0, abs=1 / 15)
    assert end_out == pytest.approx(end_in - frames_in[0], abs=1 / 15)
    verify = subprocess.run([sys.executable, "-m", "facedub", "verify", str(out)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert "watermark: found" in verify.stdout + verify.stderr
