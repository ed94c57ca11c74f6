"""Datasets handed to people outside the service: the ChatGPT zip."""
