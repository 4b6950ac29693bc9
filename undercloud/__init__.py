"""Stackbox's undercloud: a compact cloud that speaks OpenStack's APIs."""

__version__ = "0.1.0"
