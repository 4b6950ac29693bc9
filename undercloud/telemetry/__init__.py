"""Telemetry: metrics from the bus's notifications."""
