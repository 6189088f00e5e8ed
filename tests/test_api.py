"""The public API: `import facedub` is light, the stage names are the stage functions even
after their modules were imported, and the README's example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import facedub

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "mediapipe", "cv2", "dlib", "onnxruntime", "c2pa", "matplotlib")


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    return done.stdout.strip()


def test_import_facedub_loads_no_model_library() -> None:
    loaded = _python(f"import sys, facedub; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert loaded == "[]"


def test_stage_names_stay_functions_after_their_modules_load() -> None:
    code = ("import facedub.swap, facedub.extract.run, facedub.train.loop, facedub.evaluate\n"
            "import facedub\n"
            "from facedub import extract, swap, train, evaluate, verify\n"
            "print([f.__module__ for f in (extract, swap, train, evaluate, verify)])\n"
            "from facedub.swap import SwapConfig\n"
            "print(facedub.swap is swap, SwapConfig.__module__)")
    modules, identity = _python(code).splitlines()
    assert modules == str(["facedub.extract.run", "facedub.swap", "facedub.train.loop",
                           "facedub.evaluate.run", "facedub.provenance.verify"])
    assert identity == "True facedub.swap"


def test_every_public_name_resolves_and_unknown_names_fail() -> None:
    for name in facedub.__all__:
        assert getattr(facedub, name) is not None
    assert facedub.ExtractConfig().crop_size == 256
    with pytest.raises(AttributeError, match="no attribute 'swapp'"):
        _ = facedub.swapp  # type: ignore[attr-defined]


def test_readme_example_runs_as_written(faces_dir: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- api-example -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert block is not None, "the README's Python API example is missing"
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # mkdtemp() lands in tmp_path
    exec(compile(block.group(1), "README.md", "exec"), {"__name__": "readme_example"})
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["1 face swapped, described in swapped.jpg.provenance.json", "0"]
