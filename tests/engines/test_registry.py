"""engines/registry.py: engines by name, each describing itself for the provenance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest

from facedub.engines.base import EngineFacts
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.registry import ENGINES, EngineRequest, open_engine
from facedub.errors import FacedubError
from facedub.faceset import Faceset

RUDD = "still_paul_rudd_frontal_studio.jpg"


def test_the_registry_names_every_engine_and_refuses_others(tmp_path: Path) -> None:
    assert sorted(ENGINES) == ["mesh", "neural"]
    with pytest.raises(FacedubError, match="--engine gan: use one of mesh, neural"):
        open_engine("gan", EngineRequest(tmp_path))
    with pytest.raises(FacedubError, match="needs --source"):
        open_engine("mesh", EngineRequest(tmp_path))
    with pytest.raises(FacedubError, match="needs --model"):
        open_engine("neural", EngineRequest(tmp_path))


def test_the_mesh_engine_describes_its_settings_and_source(
        faces_dir: Path, extracted: Callable[..., Faceset]) -> None:
    config = MeshEngineConfig(neighbours=5, keep_target_mouth=False)
    engine = MeshEngine(extracted(RUDD), config, source_path=faces_dir / RUDD)
    assert engine.facts == EngineFacts("mesh", asdict(config), (("source", faces_dir / RUDD),))
    faceset = extracted(RUDD)
    assert MeshEngine(faceset).facts.inputs == (("source", faceset.root),)
