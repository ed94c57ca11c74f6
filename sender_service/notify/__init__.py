"""Telling people: the Slack review DM (and later the weekly report post)."""
