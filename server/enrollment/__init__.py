"""Enrollment secrets and device tokens (both stored only as hashes)."""
