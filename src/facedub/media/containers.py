"""The video containers facedub writes, chosen by the output's extension, and what each keeps.

Every output carries the swapped picture re-encoded (H.264; VP9 in WebM, MPEG-4 Part 2 in
AVI) and every audio stream of the target: copied packet for packet where the container and
its players carry the codec, otherwise transcoded to the container's usual codec (AAC in
MP4/MOV/M4V/MKV, Opus in WebM, MP3 in AVI). GIF and Windows Media targets are read but not
written (a GIF's 256-colour palette would erase the invisible watermark); write such a
target out as .mp4 or .mkv.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from facedub.errors import FacedubError

# Timestamps in this fine time base keep variable frame rates; AVI has none (see below).
FINE_TIME_BASE = Fraction(1, 90000)

# Audio codecs copied as they are. MP4 could hold Opus, FLAC or PCM too, but QuickTime,
# Safari and most TVs do not play them there; those are transcoded to AAC instead.
_MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac"})
_MOV_AUDIO = _MP4_AUDIO | frozenset({"pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be",
                                     "pcm_s32le", "pcm_s32be", "pcm_f32le", "pcm_f32be"})
_WEBM_AUDIO = frozenset({"opus", "vorbis"})
_AVI_AUDIO = frozenset({"mp3", "mp2", "ac3", "pcm_s16le", "pcm_u8"})


@dataclass(frozen=True)
class OutputFormat:
    """How an output file is written.

    `copies_audio`: the audio codecs copied unchanged (None: whatever the muxer accepts);
    anything else is transcoded to `audio_codec`. `constant_rate`: the container stores no
    per-frame times (AVI), so frames are placed on a 1/fps grid. `encoder_threads`: the
    video encoder's threads, the same on every machine (`configure_video`).
    """

    suffixes: tuple[str, ...]
    muxer: str
    name: str
    video_codec: str
    audio_codec: str
    copies_audio: frozenset[str] | None
    constant_rate: bool = False
    muxer_options: tuple[tuple[str, str], ...] = ()
    # x264 on one thread: less CPU a frame than two. VP9 and MPEG-4 keep their own
    # choice on two cores (VP9 a thread a core, MPEG-4 one more).
    encoder_threads: int = 1

    def configure_video(self, stream: av.VideoStream, crf: int, preset: str) -> None:
        """Set the encoder's quality from an x264-style CRF (0 lossless .. 51 worst) and
        speed from an x264 preset (ultrafast .. veryslow), translated for VP9 and MPEG-4,
        and its threads (`encoder_threads`)."""
        # Left to the codec, the thread count follows the CPUs this process may use, and
        # the pictures follow it: x264's frame threads, VP9's tile rows and MPEG-4's
        # slices each encode differently. A swap with a fixed job id pinned to one core
        # (taskset) wrote all 40 frames up to 25 grey levels away from the same swap on
        # two; on another machine it would have differed the same way.
        stream.codec_context.thread_count = self.encoder_threads
        if self.video_codec == "libvpx-vp9":
            stream.options = _vp9_options(crf, preset)
        elif self.video_codec == "mpeg4":
            # A fixed quantiser, 2 (best) .. 31, held by its bounds (a bit rate it never
            # reaches); CRF 18 gives 3, visually clean.
            quantiser = str(min(31, max(2, round(crf / 6))))
            stream.codec_context.bit_rate = 100_000_000
            stream.options = {"qmin": quantiser, "qmax": quantiser, "mbd": "rd", "trellis": "1"}
        else:
            stream.options = {"crf": str(crf), "preset": preset, **_x264_instruction_set()}


def _x264_instruction_set() -> dict[str, str]:
    """x264's options that keep it off its AVX-512 code where the CPU has it.

    With AVX-512, the x264 that PyAV bundles (core 165) reads memory it has not written in
    its macroblock-tree pass, at some sizes and contents (a drifting texture at 320 x 240,
    480 x 272 and 480 x 480, the last two the shared GIF's and d18's sizes, and at 524 x 524
    over 30 frames): the same frames, encoded in processes whose heap held different
    leftovers (glibc's MALLOC_PERTURB_), came out different from the seventh or the first frame
    on, and a full test run wrote a test texture differently in one encode than in the next.
    Capped at AVX2 every size tried encodes the same whatever the heap holds. "asm" names
    the instruction sets x264 uses (not intersected with what the CPU has), so it is set only
    where AVX-512 is there (and AVX2 with it)."""
    if _has_avx512():
        return {"x264-params": "asm=AVX2"}
    return {}


def _has_avx512() -> bool:
    """Whether this CPU and its OS support AVX-512F: NumPy's own reading (its module moved
    in NumPy 2), else Linux's CPU flags; False where neither says."""
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            features = importlib.import_module(module).__cpu_features__
        except (ImportError, AttributeError):
            continue
        return bool(features.get("AVX512F", False))
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "avx512f" in line.split()
               for line in cpuinfo.splitlines())


OUTPUT_FORMATS = (
    OutputFormat((".mp4", ".m4v"), "mp4", "MP4", "libx264", "aac", _MP4_AUDIO),
    OutputFormat((".mov",), "mov", "QuickTime", "libx264", "aac", _MOV_AUDIO),
    OutputFormat((".mkv",), "matroska", "Matroska", "libx264", "aac", None),
    OutputFormat((".webm",), "webm", "WebM", "libvpx-vp9", "libopus", _WEBM_AUDIO,
                 encoder_threads=2),
    # H.264 in AVI decodes a frame late in FFmpeg-based players (AVI has no timestamps for
    # it to reorder by); MPEG-4 Part 2 is what AVI players expect.
    # AVI stores audio as one run with no times: an encoder's priming samples (negative
    # times) must not shift the video's frame grid.
    OutputFormat((".avi",), "avi", "AVI", "mpeg4", "libmp3lame", _AVI_AUDIO,
                 constant_rate=True, muxer_options=(("avoid_negative_ts", "disabled"),),
                 encoder_threads=3),
)
VIDEO_OUTPUT_SUFFIXES = tuple(s for f in OUTPUT_FORMATS for s in f.suffixes)

_REFUSED = {
    ".gif": "a GIF's 256-colour palette would erase the invisible watermark",
    ".wmv": "facedub reads Windows Media but does not write it",
    ".asf": "facedub reads Windows Media but does not write it",
}


def output_format_for(path: Path) -> OutputFormat:
    """The output format for a video path, by its extension (case-insensitive); raise
    FacedubError, one line saying which extensions work, for any other."""
    suffix = Path(path).suffix.lower()
    for output in OUTPUT_FORMATS:
        if suffix in output.suffixes:
            return output
    why = f" ({_REFUSED[suffix]})" if suffix in _REFUSED else ""
    raise FacedubError(f"{path}: cannot write a {suffix or 'suffix-less'} video{why}; end the "
                       f"output in {', '.join(VIDEO_OUTPUT_SUFFIXES)}")


# x264 preset -> libvpx deadline and cpu-used. The fast presets take "realtime": 6x the
# speed of "good" at the same cpu-used for a file 2% larger (640x480 clip, CRF 22).
_VP9_SPEED = {"ultrafast": ("realtime", 8), "superfast": ("realtime", 8),
              "veryfast": ("realtime", 7), "faster": ("realtime", 6), "fast": ("good", 4),
              "medium": ("good", 3), "slow": ("good", 2), "slower": ("good", 1),
              "veryslow": ("good", 0)}


def _vp9_options(crf: int, preset: str) -> dict[str, object]:
    # x264's CRF scale runs 0..51, VP9's 0..63; CRF 0 asks for lossless in both.
    quality: dict[str, object] = (
        {"lossless": "1"} if crf == 0 else {"crf": str(round(crf * 63 / 51)), "b": "0"})
    deadline, speed = _VP9_SPEED.get(preset, ("good", 4))
    return {**quality, "deadline": deadline, "cpu-used": str(speed), "row-mt": "1"}
