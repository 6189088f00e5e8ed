"""Round 39: jobs files whose outputs collide with what else the batch reads or writes,
refused when the file is read, in one line naming the line and the field. Before: job 1's
output overwrote job 2's target (an input, modified, then swapped from); an output inside
another job's output failed when its job ran, after the first had written; an output in
batch's own .facedub-batch/ was written among the staging; a 229-byte output name passed,
and failed at the staged copy's longer name."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedub.batch import load_jobs
from facedub.errors import FacedubError
from facedub.fsutil import check_writable_output

HEAD = "[defaults]\nsource = 'media/alice.jpg'\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Stand-in inputs (the parser only checks that they exist), one of them in OUTDIR."""
    (tmp_path / "media").mkdir()
    (tmp_path / "out").mkdir()
    for name in ("media/alice.jpg", "media/bob.jpg", "out/earlier.jpg"):
        (tmp_path / name).write_bytes(b"stand-in")
    return tmp_path


@pytest.mark.parametrize(("jobs", "expected"), [
    ("[[job]]\ntarget = 'media/bob.jpg'\noutput = 'earlier.jpg'\n"
     "[[job]]\ntarget = 'out/earlier.jpg'\noutput = 'again.jpg'\n",
     ":5: [[job]] 1, output: 'earlier.jpg' would overwrite the target of job 2 "),
    ("[[job]]\ntarget = 'media/bob.jpg'\noutput = 'd.jpg'\n"
     "[[job]]\ntarget = 'media/bob.jpg'\noutput = 'd.jpg/e.jpg'\n",
     ":8: [[job]] 2, output: 'd.jpg/e.jpg' lies inside the output of job 1 ('d.jpg')"),
    ("[[job]]\ntarget = 'media/bob.jpg'\noutput = '.facedub-batch/x.jpg'\n",
     ":5: [[job]] 1, output: '.facedub-batch/x.jpg': .facedub-batch is batch's own"),
    ("[[job]]\ntarget = 'media/bob.jpg'\noutput = 'logs/x.jpg'\n",
     ":5: [[job]] 1, output: 'logs/x.jpg': logs is batch's own"),
    (f"[[job]]\ntarget = 'media/bob.jpg'\noutput = '{'x' * 225}.jpg'\n",
     ":5: [[job]] 1, output: xxxxxxxxxxxxxxxxxxxxxxxx...: name too long (229 bytes; at most "
     "213"),
])
def test_an_output_that_collides_is_refused_before_any_job(folder: Path, jobs: str,
                                                           expected: str) -> None:
    path = folder / "jobs.toml"
    path.write_text(HEAD + jobs, encoding="utf-8")
    before = (folder / "out" / "earlier.jpg").read_bytes()
    with pytest.raises(FacedubError) as raised:
        load_jobs(path, folder / "out")
    message = str(raised.value)
    assert message.startswith(f"{path}{expected}"), message
    assert "\n" not in message
    assert (folder / "out" / "earlier.jpg").read_bytes() == before


def test_outputs_apart_from_the_inputs_still_load(folder: Path) -> None:
    path = folder / "jobs.toml"
    path.write_text(HEAD + "[[job]]\ntarget = 'out/earlier.jpg'\noutput = 'again.jpg'\n"
                    "[[job]]\ntarget = 'media/bob.jpg'\noutput = 'sub/d.jpg'\n"
                    f"[[job]]\ntarget = 'media/bob.jpg'\noutput = '{'x' * 209}.jpg'\n",
                    encoding="utf-8")
    assert [j.output for j in load_jobs(path, folder / "out").jobs] == [
        "again.jpg", "sub/d.jpg", f"{'x' * 209}.jpg"]


def test_a_file_output_name_leaves_room_for_its_staged_copy_and_sidecar(tmp_path: Path
                                                                         ) -> None:
    # 229 bytes: under the file system's 255, over what the staged copy leaves.
    with pytest.raises(FacedubError, match=r"^-o x{24}\.\.\.: name too long \(229 bytes; "
                                           r"at most 213: "):
        check_writable_output(tmp_path / f"{'x' * 225}.jpg", "-o")
    check_writable_output(tmp_path / f"{'x' * 209}.jpg", "-o")  # 213 bytes: fits
    check_writable_output(tmp_path / ("y" * 250), "-o", folder=True)  # a folder: 255


def test_a_jobs_file_saved_with_a_byte_order_mark_loads(folder: Path) -> None:
    path = folder / "jobs.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (HEAD + "[[job]]\ntarget = 'media/bob.jpg'\n"
                                          "output = 'bob.jpg'\n").encode())
    assert [j.output for j in load_jobs(path, folder / "out").jobs] == ["bob.jpg"]
