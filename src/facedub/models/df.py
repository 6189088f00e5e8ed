"""DF: the Deepfakes / DeepFaceLab "DF" autoencoder.

One encoder and bottleneck shared by both people, one decoder per person. Trained to
reconstruct each person with their own decoder, the shared part learns a code of pose,
expression and light that both decoders read; decoding person B's code with A's decoder
is the swap.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from facedub.models.layers import Decoder, Encoder, Inter, ModelArgs

Person = Literal["a", "b"]
Rendered = tuple[torch.Tensor, torch.Tensor]  # face (N, 3, R, R), mask (N, 1, R, R)


class DF(nn.Module):
    arch = "df"

    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        self.encoder = Encoder(args.width)
        self.inter = Inter(Encoder.features(args), args.latent, args.latent, args.res)
        self.decoder_a = Decoder(args.latent, args.decoder_width)
        self.decoder_b = Decoder(args.latent, args.decoder_width)

    def render(self, x: torch.Tensor, person: Person) -> Rendered:
        """Any face (N, 3, R, R) RGB in [0, 1], rendered as `person`: face (N, 3, R, R)
        and mask (N, 1, R, R), both in [0, 1]."""
        code = self.inter(self.encoder(x))  # (N, latent, R/8, R/8)
        decoder = self.decoder_a if person == "a" else self.decoder_b
        face, mask = decoder(code)
        return face, mask

    def reconstruct(self, a: torch.Tensor, b: torch.Tensor) -> tuple[Rendered, Rendered]:
        """The training pass: faces of A (N, 3, R, R) as A and of B (M, 3, R, R) as B, with
        one encoder pass for both. Returns ((face_a, mask_a), (face_b, mask_b))."""
        code = self.inter(self.encoder(torch.cat([a, b])))  # (N + M, latent, R/8, R/8)
        face_a, mask_a = self.decoder_a(code[: len(a)])
        face_b, mask_b = self.decoder_b(code[len(a):])
        return (face_a, mask_a), (face_b, mask_b)

    def forward(self, x: torch.Tensor) -> Rendered:
        """The swap direction (what inference and ONNX export run): x as person A."""
        return self.render(x, "a")
