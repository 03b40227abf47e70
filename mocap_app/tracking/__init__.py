"""Temporal side of the pipeline: 1-Euro filters and persistent performer identities."""
