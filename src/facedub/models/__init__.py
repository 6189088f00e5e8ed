"""Face-swap autoencoders, one self-contained file per architecture.

`MODELS` maps the architecture name saved in a run's config.json to its class; every class
is built from a `ModelArgs` and offers `render(x, person)` (any face as person "a" or "b")
and `forward(x)` (the swap direction, x as person A).

The architectures import torch (about 1.5 s of CPU), so they load on first use: the swap's
torch-free module here (`occluder_graph`) does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from facedub.errors import FacedubError

if TYPE_CHECKING:
    from facedub.models.df import DF
    from facedub.models.layers import ModelArgs
    from facedub.models.liae import LIAE

    FaceModel = DF | LIAE
    MODELS: dict[str, type[DF] | type[LIAE]]

_LAZY = {"DF": "facedub.models.df", "LIAE": "facedub.models.liae",
         "ModelArgs": "facedub.models.layers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("FaceModel", "MODELS"):
        from facedub.models.df import DF
        from facedub.models.liae import LIAE

        return DF | LIAE if name == "FaceModel" else {"df": DF, "liae": LIAE}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_model(arch: str, args: ModelArgs) -> FaceModel:
    """A freshly initialised model of architecture `arch`."""
    models: dict[str, type[DF] | type[LIAE]] = __getattr__("MODELS")
    if arch not in models:
        raise FacedubError(f"--model {arch}: use one of {', '.join(models)}")
    return models[arch](args)


def model_args_from_json(data: Any) -> ModelArgs:
    """ModelArgs from their saved JSON form; FacedubError if malformed."""
    from facedub.models.layers import ModelArgs

    try:
        return ModelArgs(res=int(data["res"]), width=int(data["width"]),
                         latent=int(data["latent"]), decoder_width=int(data["decoder_width"]))
    except (KeyError, TypeError, ValueError) as error:
        raise FacedubError(f"model arguments {data!r} are malformed ({error}); the run "
                           "folder is damaged, train again") from error


__all__ = [
    "DF",
    "LIAE",
    "MODELS",
    "FaceModel",
    "ModelArgs",
    "build_model",
    "model_args_from_json",
]
