"""Throughline: a Slack bot that makes cross-functional work accountable."""

__version__ = "0.1.0"
