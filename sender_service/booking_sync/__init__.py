"""Booking events from either provider, recorded once and applied to the lead's record."""
