import pytest

from facedub.errors import FacedubError
from facedub.train import PRESETS, TrainConfig, preset_config


def test_presets_are_valid_and_the_cli_can_override_them() -> None:
    assert set(PRESETS) == {"cpu", "gpu-128", "gpu-256"}
    assert PRESETS["gpu-256"].res == 256
    config = preset_config("gpu-128", steps=5, batch=None, model="liae")
    assert (config.steps, config.batch, config.model, config.res) == (5, 32, "liae", 128)
    with pytest.raises(FacedubError, match="--preset huge"):
        preset_config("huge")
    with pytest.raises(ValueError, match="no field"):
        preset_config("cpu", colour_space="lab")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("res", 100, "--res 100"), ("model", "gan", "--model gan"), ("batch", 0, "--batch"),
    ("device", "tpu", "--device tpu"), ("lr", 2.0, "--lr"), ("warp", -1.0, "--warp"),
])
def test_bad_settings_say_what_to_use(field: str, value: object, message: str) -> None:
    with pytest.raises(FacedubError, match=message):
        TrainConfig(**{field: value})  # type: ignore[arg-type]
