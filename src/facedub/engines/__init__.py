"""Swap engines: given a target face, give the source person's face in its place."""
