"""The server-rendered pages for operators and setters (blueprint `pages`)."""

from sender_service.web.pages import campaigns, dashboard, leads, review
from sender_service.web.pages.base import bp

__all__ = ["bp", "campaigns", "dashboard", "leads", "review"]
