"""The auto-send path per inbound reply: classify → draft → evaluate → decide → send or review."""
