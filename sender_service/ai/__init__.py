"""The LLM's three jobs: classify a reply, draft an answer, evaluate the draft for auto-send."""
