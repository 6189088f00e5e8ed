"""The jobs file of `facedub batch`: TOML, one `[[job]]` table per swap, `[defaults]` for
the options they share.

```toml
[defaults]              # any option of `facedub swap`
engine = "mesh"
[[job]]
source = "alice.jpg"    # relative to this file's folder unless absolute
target = "scene.mp4"
output = "alice_scene.mp4"   # relative to OUTDIR
crf = 20                # any option of `swap` may be set per job
chunk_seconds = 60      # batch only: swap a long video in chunks of about this length
```

Every option is checked here, against the same frozen configs `swap` builds
(`SwapConfig`, `CompositeConfig`, `MeshEngineConfig`), before any job starts; a problem is
one line naming the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from facedub.composite.compositor import CompositeConfig
from facedub.devices import DEVICES
from facedub.engines.mesh import MeshEngineConfig
from facedub.errors import FacedubError
from facedub.fsutil import check_output_name
from facedub.swap import SwapConfig, check_output_kind

ENGINES = ("mesh", "neural")
MIN_CHUNK_SECONDS = 2.0
# What batch keeps in OUTDIR beside the outputs: its staging and running notes, the
# jobs' logs, the manifest. A job's output may not be or lie inside one of them.
STATE_DIR = ".facedub-batch"
LOGS_DIR = "logs"
MANIFEST_FILE = "batch-manifest.json"
# Options of a job besides the configs' fields: (type, is a path relative to the file).
_JOB_OPTIONS: dict[str, tuple[type, bool]] = {
    "target": (str, True), "output": (str, False), "source": (str, True),
    "model": (str, True), "engine": (str, False), "device": (str, False),
    "chunk_seconds": (float, False)}
# SwapConfig fields a jobs file may not set: the batch decides where caches and keys live.
_BATCH_OWNED = ("work_dir", "config_dir", "composite")
_PATH_FIELDS = ("target_person",)


@dataclass(frozen=True)
class JobSpec:
    """One validated job. `output` is relative to OUTDIR (POSIX form, the job's name in
    logs and the manifest); paths are absolute. `composite`, `mesh` and `swap` hold the
    options that differ from the configs' defaults, by field name."""

    number: int  # 1-based position among the [[job]] tables
    line: int  # line of its [[job]] header
    output: str
    target: Path
    engine: str
    source: Path | None
    model: Path | None
    device: str
    chunk_seconds: float | None
    composite: Mapping[str, Any]
    mesh: Mapping[str, Any]
    swap: Mapping[str, Any]

    def inputs(self) -> tuple[tuple[str, Path], ...]:
        """(role, path) of every input file or folder, the target last."""
        named = (("source", self.source), ("model", self.model),
                 ("target_person", self.swap.get("target_person")))
        return (*((role, Path(p)) for role, p in named if p is not None),
                ("target", self.target))

    def settings(self) -> dict[str, Any]:
        """Everything besides the inputs' content that decides the output (JSON)."""
        return {"engine": self.engine, "device": self.device,
                "chunk_seconds": self.chunk_seconds, "composite": dict(self.composite),
                "mesh": dict(self.mesh),
                "swap": {k: str(v) if isinstance(v, Path) else v for k, v in self.swap.items()}}

    def swap_config(self, work_dir: Path, config_dir: Path) -> SwapConfig:
        return SwapConfig(work_dir=work_dir, config_dir=config_dir,
                          composite=CompositeConfig(**self.composite), **self.swap)

    def mesh_config(self) -> MeshEngineConfig:
        return MeshEngineConfig(**self.mesh)


@dataclass(frozen=True)
class Jobs:
    path: Path  # the jobs file
    jobs: tuple[JobSpec, ...]


def load_jobs(path: Path, out_dir: Path) -> Jobs:
    """Read and check a jobs file; FacedubError (file, line, field, what to do) if wrong."""
    path = Path(path)
    if path.is_dir():  # it exists: "no such jobs file" sent the user to check the path
        raise FacedubError(f"{path}: is a folder; give the jobs file (TOML) in it")
    if not path.is_file():
        raise FacedubError(f"{path}: no such jobs file; check the path")
    try:
        # utf-8-sig: a byte-order mark (Windows Notepad's UTF-8) was "not valid TOML:
        # Invalid statement (at line 1, column 1)".
        text = path.read_text(encoding="utf-8-sig")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise FacedubError(f"{path}: not UTF-8 text ({error}); save it as UTF-8") from error
    except tomllib.TOMLDecodeError as error:
        raise FacedubError(f"{path}: not valid TOML: {error}; fix that line") from error
    lines = _Lines(path, text)
    for key in raw:
        if key not in ("defaults", "job"):
            raise lines.error(None, key, "unknown table or key; use [defaults] and [[job]]")
    defaults = raw.get("defaults", {})
    tables = raw.get("job", [])
    if not isinstance(defaults, dict):
        raise lines.error(None, "defaults", "must be a table: [defaults]")
    if not isinstance(tables, list) or not tables:
        raise FacedubError(f"{path}: no [[job]] tables; add one per swap (source, target, "
                           "output)")
    checker = _Checker(lines, path.parent, Path(out_dir))
    for key, value in defaults.items():
        if key in ("target", "output"):
            raise lines.error(None, key, "belongs in each [[job]], not in [defaults]")
        checker.option(None, key, value)
    specs: list[JobSpec] = []
    seen: dict[str, int] = {}
    for number, table in enumerate(tables, start=1):
        spec = checker.job(number, {**defaults, **table}, set(table))
        if spec.output in seen:
            raise lines.error(number, "output", f"{spec.output!r} is also the output of "
                              f"job {seen[spec.output]}; give each job its own output")
        seen[spec.output] = number
        specs.append(spec)
    _check_outputs_apart(specs, lines, Path(out_dir))
    return Jobs(path, tuple(specs))


def _check_outputs_apart(specs: list[JobSpec], lines: _Lines, out_dir: Path) -> None:
    """No output is another job's input (or inside one), nor a folder of another job's
    output: the batch wrote job 1's output over job 2's target and then swapped from
    the overwritten file; an output inside another's ("d.jpg/e.jpg" beside "d.jpg")
    failed when its job ran, after the first had written. Nor is OUTDIR an input folder
    or inside one, and no output lies inside its own job's input folder: `-o` naming a
    neural job's model run folder got batch's state folder, its logs and manifest and the
    output written among the model's files (`swap -o run/x.jpg --model run` is refused
    the same way, `fsutil.check_writable_output`)."""
    outputs = {spec.number: (out_dir / spec.output).resolve() for spec in specs}
    whole = out_dir.resolve()
    for spec in specs:
        mine = outputs[spec.number]
        for role, given in spec.inputs():
            used = Path(given).resolve()
            if whole == used or used in whole.parents:
                raise lines.error(spec.number, role, f"{given} is OUTDIR ({out_dir}) or "
                                  "holds it: batch writes its outputs, logs and manifest "
                                  "there; give -o a folder outside the inputs")
            if used in mine.parents:
                raise lines.error(spec.number, "output",
                                  f"{spec.output!r} lies inside the job's {role} "
                                  f"({given}); choose an output outside the inputs")
        for other in specs:
            if other.number == spec.number:
                continue  # the same file as its own input: `_check_together`
            for role, given in other.inputs():
                used = Path(given).resolve()
                if mine == used or used in mine.parents:
                    raise lines.error(spec.number, "output",
                                      f"{spec.output!r} would overwrite the {role} of job "
                                      f"{other.number} ({given}); choose another output")
            if outputs[other.number] in mine.parents:
                raise lines.error(spec.number, "output",
                                  f"{spec.output!r} lies inside the output of job "
                                  f"{other.number} ({other.output!r}), a file; choose "
                                  "another output")


class _Lines:
    """Finds the line of a [[job]] table or of a key inside it, for error messages."""

    _HEADER = re.compile(r"^\s*\[")
    _JOB = re.compile(r"^\s*\[\[\s*job\s*\]\]")
    _DEFAULTS = re.compile(r"^\s*\[\s*defaults\s*\]")

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.rows = text.splitlines()
        self.jobs = [n for n, row in enumerate(self.rows) if self._JOB.match(row)]
        defaults = [n for n, row in enumerate(self.rows) if self._DEFAULTS.match(row)]
        self.defaults = defaults[0] if defaults else None

    def line(self, job: int | None, key: str | None) -> int:
        """1-based line of `key` in job `job` (None: [defaults]); the table's header when
        the key is not written there."""
        start = self.defaults if job is None else self.jobs[job - 1]
        if start is None:
            return 1
        if key is not None:
            pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
            for n in range(start + 1, len(self.rows)):
                if self._HEADER.match(self.rows[n]):
                    break
                if pattern.match(self.rows[n]):
                    return n + 1
        return start + 1

    def error(self, job: int | None, key: str | None, problem: str,
              from_defaults: bool = False) -> FacedubError:
        where = "[defaults]" if job is None or from_defaults else f"[[job]] {job}"
        line = self.line(None if from_defaults else job, key)
        field = f", {key}" if key else ""
        return FacedubError(f"{self.path}:{line}: {where}{field}: {problem}")


@dataclass(frozen=True)
class _Field:
    group: str  # "composite", "mesh", "swap" or "job"
    name: str
    hint: Any


def _fields() -> dict[str, _Field]:
    """Every option a job may set, by name, with its type."""
    known: dict[str, _Field] = {}
    groups = (("composite", CompositeConfig), ("mesh", MeshEngineConfig), ("swap", SwapConfig))
    for group, cls in groups:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if not (group == "swap" and field.name in _BATCH_OWNED):
                known[field.name] = _Field(group, field.name, hints[field.name])
    for name, (kind, _) in _JOB_OPTIONS.items():
        known[name] = _Field("job", name, kind)
    return known


class _Checker:
    def __init__(self, lines: _Lines, base: Path, out_dir: Path) -> None:
        self.lines, self.base, self.out_dir = lines, base, out_dir
        self.fields = _fields()

    def option(self, job: int | None, key: str, value: Any,
               from_defaults: bool = False) -> tuple[_Field, Any]:
        """The field and its checked value; FacedubError naming the line otherwise."""
        field = self.fields.get(key.replace("-", "_"))
        if field is None:
            raise self.lines.error(job, key, "not an option of swap or batch; known: "
                                   f"{', '.join(sorted(self.fields))}", from_defaults)
        problem = _type_problem(value, field.hint)
        if problem:
            raise self.lines.error(job, key, problem, from_defaults)
        if field.group in ("composite", "mesh", "swap"):
            cls = {"composite": CompositeConfig, "mesh": MeshEngineConfig,
                   "swap": SwapConfig}[field.group]
            extra = {"work_dir": Path(), "config_dir": Path()} if field.group == "swap" else {}
            try:
                cls(**extra, **{field.name: value})  # the stage's own check of this value
            except FacedubError as error:
                raise self.lines.error(job, key, str(error), from_defaults) from None
        return field, value

    def job(self, number: int, merged: dict[str, Any], own_keys: set[str]) -> JobSpec:
        groups: dict[str, dict[str, Any]] = {"composite": {}, "mesh": {}, "swap": {}, "job": {}}
        for key, value in merged.items():
            field, checked = self.option(number, key, value, key not in own_keys)
            if field.name in _PATH_FIELDS or _JOB_OPTIONS.get(field.name, (None, False))[1]:
                checked = self._input_path(number, key, checked, key not in own_keys)
            groups[field.group][field.name] = checked
        options = groups["job"]
        for required in ("target", "output"):
            if required not in options:
                raise self.lines.error(number, None, f"needs {required} = \"...\"")
        engine = str(options.get("engine", "mesh"))
        if engine not in ENGINES:
            raise self._error(number, "engine", f"{engine!r}: use one of {', '.join(ENGINES)}",
                              own_keys)
        needs = {"mesh": "source", "neural": "model"}[engine]
        if options.get(needs) is None:
            raise self.lines.error(number, None, f"the {engine} engine needs {needs} = \"...\"")
        device = str(options.get("device", "auto"))
        if device not in DEVICES:
            raise self._error(number, "device", f"{device!r}: use one of {', '.join(DEVICES)}",
                              own_keys)
        chunk = options.get("chunk_seconds")
        if chunk is not None and float(chunk) < MIN_CHUNK_SECONDS:
            raise self._error(number, "chunk_seconds",
                              f"use at least {MIN_CHUNK_SECONDS:g} seconds", own_keys)
        spec = JobSpec(number=number, line=self.lines.line(number, None),
                       output=self._output(number, options["output"]), target=options["target"],
                       engine=engine, source=options.get("source"), model=options.get("model"),
                       device=device, chunk_seconds=None if chunk is None else float(chunk),
                       composite=groups["composite"], mesh=groups["mesh"], swap=groups["swap"])
        self._check_together(spec)
        return spec

    def _error(self, number: int, key: str, problem: str, own_keys: set[str]) -> FacedubError:
        return self.lines.error(number, key, problem, key not in own_keys)

    def _input_path(self, number: int, key: str, value: str, from_defaults: bool) -> Path:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else self.base / path
        if not path.exists():
            raise self.lines.error(number, key, f"{path}: no such file or folder; check the "
                                   "path (relative paths start at the jobs file's folder)",
                                   from_defaults)
        return path

    def _output(self, number: int, value: str) -> str:
        relative = PurePosixPath(value.replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts or not relative.name:
            raise self.lines.error(number, "output", f"{value!r}: give a path inside OUTDIR, "
                                   "relative to it, without '..'")
        if relative.parts[0] in (STATE_DIR, LOGS_DIR, MANIFEST_FILE):
            # An output in .facedub-batch/ was written among the staging, where the next
            # run's clean-up of the staging may remove it.
            raise self.lines.error(number, "output", f"{value!r}: {relative.parts[0]} is "
                                   "batch's own; choose another output")
        try:
            check_output_name(relative)
        except FacedubError as error:
            raise self.lines.error(number, "output", str(error)) from None
        return str(relative)

    def _check_together(self, spec: JobSpec) -> None:
        """What only the whole job shows: the output's kind, and the configs built from all
        its options at once."""
        output = self.out_dir / spec.output
        try:
            # The kind alone, on the output the job writes (its folder is created when the
            # job runs). Checked on a stand-in beside the jobs file, the message named that
            # file ("jobs/x.jpg: cannot write a .jpg video" for OUTDIR/x.jpg), and renaming
            # it in the message renamed a target of that name too (jobs/x.webp's animation
            # was blamed on OUTDIR/x.webp).
            check_output_kind(spec.target, output)
            if any(output.resolve() == p.resolve() for _, p in spec.inputs()):
                raise FacedubError(f"{output}: would overwrite an input; choose another output")
            spec.swap_config(Path(), Path())
            spec.mesh_config()
        except FacedubError as error:
            raise self.lines.error(spec.number, None, str(error)) from None


def _type_problem(value: Any, hint: Any) -> str | None:
    """Why `value` (from TOML) does not fit the type `hint`, or None if it does."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        problems = [_type_problem(value, a) for a in options]
        return None if any(p is None for p in problems) else problems[0]
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        return None if value in allowed else f"{value!r}: use one of {allowed}"
    expected = {bool: "true or false", int: "a whole number", float: "a number",
                str: "a string in quotes", Path: "a path in quotes"}
    if hint not in expected:
        return None
    fits = {bool: isinstance(value, bool),
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, int | float) and not isinstance(value, bool),
            str: isinstance(value, str), Path: isinstance(value, str)}[hint]
    return None if fits else f"{value!r} is not {expected[hint]}"
