"""facedub: face swapping for video and photos that says what it is."""

__version__ = "0.1.0"
