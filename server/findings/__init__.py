"""PHI/PII findings reported by agents (counts and kinds, never values)."""
