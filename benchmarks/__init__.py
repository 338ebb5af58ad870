"""Benchmarks: scripts that print figures (see README.md); run with ``python -m``."""
