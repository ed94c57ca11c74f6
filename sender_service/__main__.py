"""`python -m sender_service ...` runs the `replyline` CLI (the demo starts its processes so)."""

from sender_service.cli import main

main()
