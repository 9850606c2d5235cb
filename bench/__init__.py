"""Benchmarks: `python -m bench` (or `make bench`) prints a table of figures against targets."""
