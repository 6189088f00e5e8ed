"""Face-swap autoencoders, one self-contained file per architecture.

`MODELS` maps the architecture name saved in a run's config.json to its class; every class
is built from a `ModelArgs` and offers `render(x, person)` (any face as person "a" or "b")
and `forward(x)` (the swap direction, x as person A).
"""

from __future__ import annotations

from typing import Any

from facedub.errors import FacedubError
from facedub.models.df import DF
from facedub.models.layers import ModelArgs
from facedub.models.liae import LIAE

FaceModel = DF | LIAE

MODELS: dict[str, type[DF] | type[LIAE]] = {"df": DF, "liae": LIAE}


def build_model(arch: str, args: ModelArgs) -> FaceModel:
    """A freshly initialised model of architecture `arch`."""
    if arch not in MODELS:
        raise FacedubError(f"--model {arch}: use one of {', '.join(MODELS)}")
    return MODELS[arch](args)


def model_args_from_json(data: Any) -> ModelArgs:
    """ModelArgs from their saved JSON form; FacedubError if malformed."""
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
