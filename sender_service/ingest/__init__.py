"""Webhook ingest: per-platform parsers into one platform-neutral event, stored idempotently."""
