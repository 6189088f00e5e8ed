"""LIAE: DeepFaceLab's "lightweight improved autoencoder".

One encoder and one decoder shared by both people; between them two bottlenecks:
`inter_ab` sees both people, `inter_b` only person B (the target). The decoder reads the
two codes side by side:

    A reconstructs from  [inter_ab(a), inter_ab(a)]
    B reconstructs from  [inter_b(b),  inter_ab(b)]
    swap B -> A:         [inter_ab(b), inter_ab(b)]

So `inter_b` soaks up what is particular to B's footage, and the swap decodes B's pose
and expression from the code that both people share. It tends to keep the target's
expression and light better than DF, at some cost in source likeness.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from facedub.models.layers import Decoder, Encoder, Inter, ModelArgs

Person = Literal["a", "b"]
Rendered = tuple[torch.Tensor, torch.Tensor]  # face (N, 3, R, R), mask (N, 1, R, R)


class LIAE(nn.Module):
    arch = "liae"

    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.args = args
        features = Encoder.features(args)
        self.encoder = Encoder(args.width)
        self.inter_ab = Inter(features, args.latent, args.latent, args.res)
        self.inter_b = Inter(features, args.latent, args.latent, args.res)
        self.decoder = Decoder(2 * args.latent, args.decoder_width)

    def render(self, x: torch.Tensor, person: Person) -> Rendered:
        """Any face (N, 3, R, R) RGB in [0, 1], rendered as `person`: face (N, 3, R, R)
        and mask (N, 1, R, R), both in [0, 1]."""
        features = self.encoder(x)
        shared = self.inter_ab(features)  # (N, latent, R/8, R/8)
        own = shared if person == "a" else self.inter_b(features)
        face, mask = self.decoder(torch.cat([own, shared], dim=1))
        return face, mask

    def reconstruct(self, a: torch.Tensor, b: torch.Tensor) -> tuple[Rendered, Rendered]:
        """The training pass: faces of A (N, 3, R, R) as A and of B (M, 3, R, R) as B, with
        one encoder and one decoder pass for both. Returns ((face_a, mask_a),
        (face_b, mask_b))."""
        count = len(a)
        features = self.encoder(torch.cat([a, b]))
        shared = self.inter_ab(features)  # (N + M, latent, R/8, R/8)
        own_b = self.inter_b(features[count:])
        shared_a, shared_b = shared[:count], shared[count:]
        codes = torch.cat([torch.cat([shared_a, shared_a], dim=1),
                           torch.cat([own_b, shared_b], dim=1)])
        face, mask = self.decoder(codes)
        return (face[:count], mask[:count]), (face[count:], mask[count:])

    def forward(self, x: torch.Tensor) -> Rendered:
        """The swap direction (what inference and ONNX export run): x as person A."""
        return self.render(x, "a")
