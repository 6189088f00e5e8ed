"""A refiner's held-out check on composited faces (issue 13, BENCHMARKS.md, Refiner,
twenty-fourth round; `refine` makes it itself when given the source video since the
twenty-fifth: train/refine_composited.py): the source clip's held-out stretch swapped
from the frames before it, through the swap's own per-frame path and compositor, read
with the evaluation's face SSIM: what a self-swap pair sees, where `refine`'s renderings'
held-out score reads them at the refiner's resolution (and ranked two refiners the other
way round from the pair).

    python tools/refiner_heldout.py --source SOURCE --refiner REFINER [--refiner ...] \
        --out DIR [--max-frames 60] [--csv OUT.csv]

SOURCE is the video the refiners were trained on (`facedub refine SOURCE`). Its faces are
split as the refiners' `refine` split them (the same held-out share and gap; refiners
that split it differently are refused: one may have trained on another's held-out
frames): the frames up to the last training face become the swap's source, the frames
from the first held-out face on its target (both written losslessly to DIR); neither the
mesh engine nor the refiner has seen a held-out frame. The table is
`tools/refiner_oracles.py --no-oracles`'s: the mesh engine's composited face and each
refiner's, frame by frame.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from refiner_oracles import measure, report, write_rows

from facedub import media
from facedub.engines.registry import SOURCE_CROP
from facedub.extract.config import ExtractConfig
from facedub.extract.workspace import analysed
from facedub.locations import work_dir as default_work_dir
from facedub.progress import NoProgress
from facedub.train.refine_composited import cut
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import split_faces


def split_settings(refiner: Path) -> tuple[float, str]:
    """(held-out share, renderings) of `refiner`'s training, as `refine` resumes it: a
    folder that records no share was trained with the default, one without renderings
    rendered "blocks"; one of the older rule (blocks held out between its training
    blocks) has no held-out stretch and is refused."""
    settings = json.loads((refiner / "config.json").read_text()).get("refine_settings", {})
    if "holdout_share" not in settings and "holdout_every" in settings:
        raise SystemExit(f"{refiner}: trained by an older `facedub refine` that held out "
                         "blocks between its training frames: no held-out stretch to swap")
    return (float(settings.get("holdout_share", RefineConfig().holdout_share)),
            str(settings.get("renderings", "blocks")))


def split_frames(source: Path, refiners: list[Path], work: Path) -> tuple[int, int]:
    """(the last training face's frame index, the first held-out face's) of `source` as
    each of `refiners`' training split it; refused when they split it differently (one
    may have trained on frames another held out)."""
    faceset = analysed(source, work, ExtractConfig(crop_size=SOURCE_CROP), NoProgress())
    records = faceset.faces_of()
    frames: dict[tuple[int, int], list[str]] = {}
    for refiner in refiners:
        split = split_faces(len(records), *split_settings(refiner))
        if not len(split.held):
            raise SystemExit(f"{refiner}: its training held nothing out of {source}")
        training = [*split.train_a, *split.train_b]
        edges = (max(records[int(i)].frame for i in training),
                 min(records[int(i)].frame for i in split.held))
        frames.setdefault(edges, []).append(str(refiner))
    if len(frames) > 1:
        told = "; ".join(f"{', '.join(names)}: trained to frame {last}, held out from "
                         f"{first}" for (last, first), names in frames.items())
        raise SystemExit(f"the refiners split {source} differently ({told}): check them "
                         "one split at a time")
    return next(iter(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--refiner", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True, help="cuts and work files")
    parser.add_argument("--max-frames", type=int, default=60, help="held-out frames read")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    last_training, first_held = split_frames(args.source, args.refiner,
                                             args.work_dir or default_work_dir())
    frames = media.probe(args.source).frame_count
    source = cut(args.source, 0, last_training, args.out / "heldout-source.mp4")
    target = cut(args.source, first_held, frames - 1, args.out / "heldout-target.mp4")
    print(f"source: frames 0-{last_training}; held-out target: frames {first_held}-"
          f"{frames - 1}")
    rows = measure(argparse.Namespace(source=source, target=target, refiner=args.refiner,
                                      max_frames=args.max_frames, no_oracles=True),
                   args.out / "work")
    if args.csv:
        write_rows(args.csv, rows)
    report(rows)


if __name__ == "__main__":
    main()
