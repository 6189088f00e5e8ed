from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from facedub import media
from facedub.errors import FacedubError
from facedub.spread import spread_indices

KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"  # MPEG-4 Part 2 with AAC audio


def _write_video(path: Path, frames: list[np.ndarray], rate: int = 25,
                 rotation: int | None = None, times: list[float] | None = None) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if times is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if times is not None:
                frame.pts = round(times[index] * 1000)
                frame.time_base = Fraction(1, 1000)
            else:
                frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_read_write_round_trip_keeps_frames_rate_size_and_audio(faces_dir: Path,
                                                                tmp_path: Path) -> None:
    source = faces_dir / KATIE
    info = media.probe(source)
    out = tmp_path / "copy.mp4"
    with media.VideoWriter(out, info.width, info.height, info.fps, crf=20,
                           preset="veryfast", audio_from=source) as writer:
        for frame in media.iter_frames(source):
            writer.write(frame.image, frame.time)
    copied = media.probe(out)
    assert (copied.width, copied.height, copied.fps) == (info.width, info.height, info.fps)
    assert copied.frame_count == info.frame_count == 200
    assert copied.has_audio
    assert sum(1 for _ in media.iter_frames(out)) == 200
    with av.open(str(out)) as container, av.open(str(source)) as original:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        copied_packets = sum(1 for p in container.demux(audio) if p.size)
        original_packets = sum(1 for p in original.demux(original.streams.audio[0]) if p.size)
        assert copied_packets == original_packets


def test_frames_are_streamed_rgb_uint8_with_times(faces_dir: Path) -> None:
    frames = media.iter_frames(faces_dir / KATIE)
    first, second = next(frames), next(frames)
    assert first.image.shape == (512, 512, 3) and first.image.dtype == np.uint8
    assert (first.index, second.index) == (0, 1)
    assert second.time == pytest.approx(1 / 25)


def test_rotated_phone_video_comes_out_upright(tmp_path: Path) -> None:
    upright = np.zeros((96, 64, 3), np.uint8)  # portrait, red on top
    upright[:48] = (255, 0, 0)
    stored = np.ascontiguousarray(np.rot90(upright, k=-1))  # as a sensor lying sideways
    path = tmp_path / "phone.mp4"
    _write_video(path, [stored] * 3, rotation=90)
    info = media.probe(path)
    assert (info.width, info.height, info.rotation) == (64, 96, 90)
    image = next(media.iter_frames(path)).image
    assert image.shape == (96, 64, 3)
    assert image[10, 32, 0] > 200 and image[80, 32, 0] < 50


def test_variable_frame_rate_times_are_kept(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.15, 0.2, 0.5]
    path = tmp_path / "vfr.mp4"
    _write_video(path, [np.full((64, 64, 3), 40 * i, np.uint8) for i in range(5)], times=times)
    read = [frame.time for frame in media.iter_frames(path)]
    assert read == pytest.approx(times, abs=2e-3)
    out = tmp_path / "vfr_copy.mp4"
    with media.VideoWriter(out, 64, 64, Fraction(25)) as writer:
        for frame in media.iter_frames(path):
            writer.write(frame.image, frame.time)
    assert [frame.time for frame in media.iter_frames(out)] == pytest.approx(times, abs=2e-3)


def test_photos_exif_orientation_greyscale_and_alpha(tmp_path: Path) -> None:
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, :40] = (0, 255, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90 degrees clockwise
    Image.fromarray(wide).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    turned = media.read_photo(tmp_path / "turned.jpg")
    assert turned.shape == (80, 40, 3)
    assert turned[5, 20, 1] > 200  # the green half is now on top

    Image.fromarray(np.full((10, 12), 77, np.uint8), mode="L").save(tmp_path / "grey.png")
    grey = media.read_photo(tmp_path / "grey.png")
    assert grey.shape == (10, 12, 3) and (grey == 77).all()

    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:5, :, 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")
    image = media.read_photo(tmp_path / "alpha.png")
    assert tuple(image[2, 2]) == (255, 0, 0)
    assert tuple(image[8, 2]) == (255, 255, 255)

    webp = tmp_path / "photo.webp"
    Image.fromarray(wide).save(webp)
    assert media.probe(webp).kind == "photo"


def test_odd_sizes_are_padded_to_even(tmp_path: Path) -> None:
    out = tmp_path / "odd.mp4"
    with media.VideoWriter(out, 63, 47, Fraction(30)) as writer:
        for index in range(3):
            writer.write(np.full((47, 63, 3), 100, np.uint8), index / 30)
    info = media.probe(out)
    assert (info.width, info.height) == (64, 48)


def test_a_lossless_round_trip_keeps_the_brightness(tmp_path: Path) -> None:
    """Decoding rounds YUV -> RGB: with swscale's default (truncating) conversion every
    frame came back 1.2 grey levels darker, and so did every swap's output."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 220, 64, dtype=np.float32)[None, :, None]
    image = np.clip(ramp + rng.normal(0, 6, (48, 64, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "lossless.mp4"
    with media.VideoWriter(path, 64, 48, Fraction(25), crf=0) as writer:
        for index in range(3):
            writer.write(image, index / 25)
    for frame in media.iter_frames(path):
        grey = frame.image.astype(np.float32).mean(axis=2) - image.mean(axis=2)
        assert abs(float(grey.mean())) < 0.3


@pytest.mark.parametrize("case", ["missing", "not_media", "truncated", "folder"])
def test_bad_input_gives_one_clear_line(case: str, faces_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "input.mp4"
    if case == "not_media":
        path.write_text("this is not a video\n")
    elif case == "truncated":
        data = (faces_dir / KATIE).read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif case == "folder":
        path.mkdir()
    with pytest.raises(FacedubError) as error:
        media.probe(path)
        list(media.iter_frames(path))
    message = str(error.value)
    assert "\n" not in message and str(path) in message


def test_a_video_without_frames_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        container.start_encoding()
    assert path.stat().st_size > 0
    with pytest.raises(FacedubError, match=r"no frames|no video stream|not a readable"):
        media.probe(path)


def test_failed_writing_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), media.VideoWriter(out, 64, 64, Fraction(25)) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8), 0.0)
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FacedubError, match="does not exist"):
        media.VideoWriter(tmp_path / "missing" / "out.mp4", 64, 64, Fraction(25))
    with pytest.raises(FacedubError, match="crf"):
        media.VideoWriter(tmp_path / "out.mp4", 64, 64, Fraction(25), crf=99)


def test_spread_indices_reach_both_ends_without_repeats() -> None:
    assert spread_indices(10, 4) == (0, 3, 6, 9)
    assert spread_indices(3, 8) == (0, 1, 2)
    assert spread_indices(100, 1) == (0,)
    assert spread_indices(0, 5) == spread_indices(5, 0) == ()
    with pytest.raises(FacedubError, match="--crf 52"):
        media.check_crf(52)


def test_chosen_frames_come_back_alone_with_the_last_one_if_asked(tmp_path: Path) -> None:
    frames = [np.full((32, 48, 3), 20 * i, dtype=np.uint8) for i in range(8)]
    path = tmp_path / "clip.mp4"
    _write_video(path, frames)
    every = list(media.iter_frames(path))
    chosen = list(media.iter_frames(path, indices={1, 4}))
    assert [f.index for f in chosen] == [1, 4]
    for frame in chosen:
        assert np.array_equal(frame.image, every[frame.index].image)
        assert frame.time == every[frame.index].time
    with_last = list(media.iter_frames(path, indices={1, 4}, last=True))
    assert [f.index for f in with_last] == [1, 4, 7]
    assert np.array_equal(with_last[-1].image, every[7].image)
    assert [f.index for f in media.iter_frames(path, indices={2, 7}, last=True)] == [2, 7]


def test_a_huge_photo_is_refused_naming_the_file_and_what_to_do(tmp_path: Path) -> None:
    # PIL's DecompressionBombError names no file; the user gets the path and the remedy.
    path = tmp_path / "huge.png"
    Image.new("L", (16, 16)).save(path)
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = 100  # 256 pixels is over twice this: PIL raises, not warns
        with pytest.raises(FacedubError, match=r"huge\.png: over .* scale it down"):
            media.read_photo(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_an_unreadable_photo_says_permission_not_format(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.jpg"
    Image.new("RGB", (8, 8)).save(path)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    # Root reads a mode-000 file, so the refusal is raised where PIL opens it.
    monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(FacedubError, match=r"locked\.jpg: permission denied; make it readable"):
        media.read_photo(path)
