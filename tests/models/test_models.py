import pytest
import torch

from facedub.errors import FacedubError
from facedub.models import DF, LIAE, MODELS, ModelArgs, build_model, model_args_from_json
from facedub.models.reference2017 import Reference2017


@pytest.mark.parametrize("arch", sorted(MODELS))
@pytest.mark.parametrize("res", [64, 128])
def test_models_render_face_and_mask_at_their_resolution(arch: str, res: int) -> None:
    model = build_model(arch, ModelArgs(res=res, width=8, latent=16, decoder_width=4))
    x = torch.rand(2, 3, res, res)
    for person in ("a", "b"):
        with torch.no_grad():
            face, mask = model.render(x, person)
        assert face.shape == (2, 3, res, res) and mask.shape == (2, 1, res, res)
        assert float(face.min()) >= 0.0 and float(face.max()) <= 1.0
    assert torch.equal(model(x)[0], model.render(x, "a")[0])


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_training_pass_matches_separate_renders(arch: str) -> None:
    model = build_model(arch, ModelArgs(res=64, width=8, latent=16, decoder_width=4))
    a, b = torch.rand(3, 3, 64, 64), torch.rand(2, 3, 64, 64)
    (face_a, mask_a), (face_b, mask_b) = model.reconstruct(a, b)
    assert torch.allclose(face_a, model.render(a, "a")[0], atol=1e-6)
    assert torch.allclose(mask_b, model.render(b, "b")[1], atol=1e-6)
    assert face_b.shape == (2, 3, 64, 64) and mask_a.shape == (3, 1, 64, 64)


def test_df_swaps_through_a_and_liae_through_the_shared_code() -> None:
    args = ModelArgs(res=64, width=8, latent=16, decoder_width=4)
    df = DF(args)
    x = torch.rand(1, 3, 64, 64)
    bias = df.decoder_b.head.bias
    assert bias is not None
    with torch.no_grad():
        bias.fill_(5.0)  # changing B's decoder must not change the swap
    assert torch.equal(df(x)[0], df.render(x, "a")[0])
    liae = LIAE(args)
    before = liae(x)[0]
    with torch.no_grad():
        for parameter in liae.inter_b.parameters():
            parameter.add_(1.0)  # inter_b is only on B's path
    assert torch.equal(liae(x)[0], before)
    assert not torch.equal(liae.render(x, "b")[0], liae.render(x, "a")[0])


def test_model_args_are_validated_and_round_trip() -> None:
    args = ModelArgs(res=128, width=32, latent=128, decoder_width=16)
    assert model_args_from_json(args.to_json()) == args
    with pytest.raises(FacedubError, match="--res 96"):
        ModelArgs(res=96, width=32, latent=128, decoder_width=16)
    with pytest.raises(FacedubError, match="malformed"):
        model_args_from_json({"res": 64})
    with pytest.raises(FacedubError, match="--model gan"):
        build_model("gan", args)


def test_reference_2017_autoencoder_has_its_published_shape() -> None:
    model = Reference2017()
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 3, 64, 64)
    encoder_convs = [m.out_channels for m in model.encoder.modules()
                     if isinstance(m, torch.nn.Conv2d)]
    assert encoder_convs == [128, 256, 512, 1024, 512 * 4]
    dense = [m.out_features for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert dense == [1024, 4 * 4 * 1024]
