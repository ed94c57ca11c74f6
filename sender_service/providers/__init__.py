"""HTTP clients of the booking providers (GoHighLevel, Calendly); base URLs from settings."""
