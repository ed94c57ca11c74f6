"""Replyline's service: webhooks in, AI pipeline, system sender, setters' pages and the CLI."""
