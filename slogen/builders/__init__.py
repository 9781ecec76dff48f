"""Builders: pure functions from the model to plain data. No I/O."""
