"""Devices: the inventory and each device's latest (denormalised) state."""
