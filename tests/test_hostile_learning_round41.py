"""Hostile input for the learning commands (forty-first round): a faceset whose
faceset.json was edited to another crop size trained without a word, on crops resized
against landmarks placed for the wrong size; now it is refused, naming the file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from facedub.errors import FacedubError
from facedub.faceset import Faceset, load_faceset
from facedub.train.data import load_samples


def _edited(faceset: Faceset, folder: Path, **fields: object) -> Path:
    """A copy of `faceset` with faceset.json's `fields` replaced."""
    copy = folder / "faces"
    shutil.copytree(faceset.root, copy)
    meta = json.loads((copy / "faceset.json").read_text())
    meta.update(fields)
    (copy / "faceset.json").write_text(json.dumps(meta))
    return copy


def test_crops_of_another_size_than_the_facesets_are_refused(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    faceset = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=128)
    edited = load_faceset(_edited(faceset, tmp_path, crop_size=999))
    record = edited.faces_of()[0]
    for read in (edited.load_image, edited.load_mask):
        with pytest.raises(FacedubError, match=r"128 x 128 px, but the faceset's crops are "
                                               r"999 px \(faceset.json\).*extract again"):
            read(record)
    with pytest.raises(FacedubError, match="extract again"):
        load_samples(edited, 64)  # what `facedub train` reads


def test_crops_of_the_facesets_size_are_read(
        extracted: Callable[..., Faceset]) -> None:
    faceset = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=128)
    record = faceset.faces_of()[0]
    assert faceset.load_image(record).shape == (128, 128, 3)
    assert faceset.load_mask(record).shape == (128, 128)


def test_a_chosen_person_the_faceset_does_not_hold_is_refused(
        extracted: Callable[..., Faceset], tmp_path: Path) -> None:
    """It was "0 faces of the chosen person; ... give a video or a folder of more photos"
    (refine) and "the chosen person has no faces" (train)."""
    faceset = extracted("still_paul_rudd_frontal_studio.jpg", crop_size=128)
    with pytest.raises(FacedubError, match=r"faceset.json: chooses person 9, but the faceset "
                                           r"holds person 0; .*extract again"):
        load_faceset(_edited(faceset, tmp_path, person=9))


def _onnx_with(path: Path, **metadata: str) -> Path:
    """A one-node ONNX graph carrying `metadata`, as `facedub export` writes its own."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph)
    helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def test_an_export_of_the_other_kind_says_where_it_goes(tmp_path: Path) -> None:
    """A refiner's .onnx given to --model, and a swap model's to --refiner, were both
    "not exported by facedub (no ... metadata)": they were, for the other option."""
    from facedub.models.export import read_onnx_info
    from facedub.models.refiner_export import REFINER_ONNX_FORMAT, read_refiner_onnx_info

    refiner = _onnx_with(tmp_path / "refiner.onnx", format=REFINER_ONNX_FORMAT, version="1")
    with pytest.raises(FacedubError, match=r"refiner.onnx: a refiner .*--refiner`$"):
        read_onnx_info(refiner)
    model = _onnx_with(tmp_path / "run.onnx", format="facedub-onnx", version="1")
    with pytest.raises(FacedubError, match=r"run.onnx: a trained swap model .*--model`$"):
        read_refiner_onnx_info(model)
    other = _onnx_with(tmp_path / "other.onnx", format="someone-else")
    with pytest.raises(FacedubError, match="not exported by facedub"):
        read_onnx_info(other)


def test_a_malformed_field_says_why_and_a_missing_one_names_itself(tmp_path: Path) -> None:
    """state.json edited ("step": "x") read "field invalid literal for int() with base 10:
    'x' is missing or malformed"."""
    from facedub.models.run import read_state

    state = {"format": "facedub-run", "step": "x", "train_seconds": 1.0, "losses": {}, "seed": 1,
             "model_sha256": "", "optimizer_sha256": ""}
    (tmp_path / "state.json").write_text(json.dumps(state))
    with pytest.raises(FacedubError, match=r"state.json: a field is malformed \(invalid "
                                           r"literal for int\(\) .*'x'\); the run folder"):
        read_state(tmp_path)
    del state["seed"]
    state["step"] = 3
    (tmp_path / "state.json").write_text(json.dumps(state))
    with pytest.raises(FacedubError, match=r"state.json: field 'seed' is missing; "):
        read_state(tmp_path)


def test_a_refiners_edited_best_state_says_which_field_is_wrong(tmp_path: Path) -> None:
    """best.json's step edited to "x" read "field invalid literal for int() with base 10:
    'x' is missing or malformed" (the lead, from r41-F's report)."""
    from facedub.models.refiner_run import BEST_STATE_FILE, REFINER_FORMAT, read_best

    (tmp_path / BEST_STATE_FILE).write_text(json.dumps(
        {"format": REFINER_FORMAT, "step": "x", "score": 0.9, "sha256": "0" * 64}))
    with pytest.raises(FacedubError, match=r"a field is malformed \(invalid literal"):
        read_best(tmp_path)
    (tmp_path / BEST_STATE_FILE).write_text(json.dumps(
        {"format": REFINER_FORMAT, "score": 0.9, "sha256": "0" * 64}))
    with pytest.raises(FacedubError, match=r"field 'step' is missing; delete it"):
        read_best(tmp_path)
