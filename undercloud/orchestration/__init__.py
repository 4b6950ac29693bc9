"""Orchestration: Heat v1 stacks."""
