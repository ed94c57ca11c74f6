"""Alembic migrations of the operational schema; run through `replyline db upgrade`."""
