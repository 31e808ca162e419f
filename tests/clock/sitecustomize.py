"""Child processes of a pinned test run start on the pinned clock (see pinned_clock.py)."""

import os

if os.environ.get("TESTS_PINNED_CLOCK"):
    import pinned_clock

    _traveller = pinned_clock.travel(os.environ["TESTS_PINNED_CLOCK"])
