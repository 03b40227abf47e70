"""Evaluation commands that measure the pipeline on ground-truth motion capture."""
