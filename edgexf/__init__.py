"""edgexf: compile compact transformer-family models to C for microcontrollers."""

__version__ = "0.1.0"
