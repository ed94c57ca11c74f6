"""Realistic, deterministic synthetic data: `replyline seed` (see `load`)."""
