"""Compositing a swapped face into the target frame: masks, colour, relighting, blending,
temporal smoothing. Shared by every engine."""
