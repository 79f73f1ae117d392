"""Check-in reports: idempotent intake, posture history, events."""
