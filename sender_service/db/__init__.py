"""The operational store: URLs, the embedded server, engines and sessions, the models."""
