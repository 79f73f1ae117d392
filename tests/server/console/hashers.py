"""Argon2 with test-sized cost: Django's default (100 MiB, 8 lanes) takes ~0.5 s per hash
on the 2-core CI box, and every fixture user costs one."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
