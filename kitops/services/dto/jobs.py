"""Frozen values of the scheduled jobs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    schedule: str  # suggested crontab schedule
    command: str
    available: bool
