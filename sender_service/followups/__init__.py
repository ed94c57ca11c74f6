"""Follow-up sequences: declared per workspace, entered on a positive reply, left on booking."""
