"""facedub: face swapping for video and photos that says what it is.

The stages and their configs, importable from here (each loads on first use, so
`import facedub` stays light and starts no model)::

    extract(media, out_dir, ExtractConfig()) -> ExtractResult     # .faceset
    train(source_faceset, target_faceset, run_dir, TrainConfig()) -> TrainRun
    swap(target, engine, out_path, SwapConfig(...)) -> SwapResult
    evaluate(source, target, swapped, out_dir, EvalConfig()) -> Report
    verify(media_path) -> Verification

Engines: `MeshEngine(faceset, MeshEngineConfig())`, `load_neural_engine(run_or_onnx)`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from facedub.composite.compositor import CompositeConfig as CompositeConfig
    from facedub.engines.mesh import MeshEngine as MeshEngine
    from facedub.engines.mesh import MeshEngineConfig as MeshEngineConfig
    from facedub.engines.neural import load_neural_engine as load_neural_engine
    from facedub.errors import FacedubError as FacedubError
    from facedub.evaluate.config import EvalConfig as EvalConfig
    from facedub.evaluate.run import Report as Report
    from facedub.evaluate.run import evaluate as evaluate
    from facedub.extract.config import ExtractConfig as ExtractConfig
    from facedub.extract.run import ExtractResult as ExtractResult
    from facedub.extract.run import extract as extract
    from facedub.faceset import Faceset as Faceset
    from facedub.faceset import load_faceset as load_faceset
    from facedub.provenance.verify import Verification as Verification
    from facedub.provenance.verify import verify as verify
    from facedub.swap import SwapConfig as SwapConfig
    from facedub.swap import SwapResult as SwapResult
    from facedub.swap import swap as swap
    from facedub.train.config import TrainConfig as TrainConfig
    from facedub.train.loop import TrainRun as TrainRun
    from facedub.train.loop import train as train

# Public name -> the module that defines it.
_PUBLIC = {
    "CompositeConfig": "facedub.composite.compositor",
    "EvalConfig": "facedub.evaluate.config",
    "ExtractConfig": "facedub.extract.config",
    "ExtractResult": "facedub.extract.run",
    "FacedubError": "facedub.errors",
    "Faceset": "facedub.faceset",
    "MeshEngine": "facedub.engines.mesh",
    "MeshEngineConfig": "facedub.engines.mesh",
    "Report": "facedub.evaluate.run",
    "SwapConfig": "facedub.swap",
    "SwapResult": "facedub.swap",
    "TrainConfig": "facedub.train.config",
    "TrainRun": "facedub.train.loop",
    "Verification": "facedub.provenance.verify",
    "evaluate": "facedub.evaluate.run",
    "extract": "facedub.extract.run",
    "load_faceset": "facedub.faceset",
    "load_neural_engine": "facedub.engines.neural",
    "swap": "facedub.swap",
    "train": "facedub.train.loop",
    "verify": "facedub.provenance.verify",
}
# Stage functions named like the subpackage or module that holds them.
_STAGES = frozenset({"extract", "swap", "train", "evaluate"})

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    """Load a public name on first use (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'facedub' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


class _Facade(types.ModuleType):
    """Importing the submodule `facedub.swap` makes Python set the package attribute
    `facedub.swap` to that module, which would hide the stage function of the same name.
    The stage names keep meaning the functions; the modules stay in `sys.modules` and
    `from facedub.swap import SwapConfig` works as usual."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _STAGES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
