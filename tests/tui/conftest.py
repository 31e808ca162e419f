"""Databases for the terminal UI tests: the demo data as of a fixed day, loaded at a
fixed instant (so audit times and screenshots are the same on every run), cloned from a
template loaded once per run (``DemoTemplates`` in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tui_support
from tui_support import AS_OF


@pytest.fixture
def demo_url(demo_templates, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A SQLite file of its own with the demo data."""
    target = tmp_path / "kitops.db"
    shutil.copyfile(demo_templates.sqlite(AS_OF), target)
    return f"sqlite:///{target}"


@pytest.fixture
def pg_demo_url(pg_admin, demo_templates) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A PostgreSQL database of its own with the demo data."""
    name = f"kitops_t{os.getpid()}_tui_{uuid.uuid4().hex[:8]}"
    url = pg_admin.create(name, template=demo_templates.postgresql(AS_OF))
    yield url
    pg_admin.drop(name)


@pytest.fixture(autouse=True)
def _cheap_pins(cheap_pin_hashes):  # type: ignore[no-untyped-def]
    """Every PIN hashed and checked with small argon2 costs (``cheap_pin_hashes``)."""


@pytest.fixture(autouse=True)
def _reorder_tile_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's reorder tile loads a second after the first paint (so it does not
    share the start's CPU); tests and snapshots want it at once."""
    monkeypatch.setattr("kitops.tui.screens.dashboard.PURCHASING_AFTER", 0.0)


@pytest.fixture(autouse=True)
def _short_debounces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person's pauses (after the last key in a filter, the cursor stopping, a form
    change) are debounced by a quarter of a second; the tests wait for each debounce to
    fire (``settle``), so a shorter one keeps what is tested and spends less time idle."""
    for name in ("FILTER_DELAY", "DETAIL_DELAY", "PREVIEW_DELAY"):
        monkeypatch.setattr(f"kitops.tui.lists.{name}", 0.02)


@pytest.fixture(autouse=True)
def _short_idle_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual's pilot checks that the app went idle after each key by sleeping a fiftieth
    of a second (twice per key): a scan of 45 characters spent two seconds asleep. The
    tests do not rely on that check (``settle`` in tui_support.py waits on events:
    workers, timers, table sizes), so it sleeps a tenth as long, with the same ratio of
    CPU time to wall time."""
    import textual._wait

    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 1 / 500)
    monkeypatch.setattr(textual._wait, "SLEEP_IDLE", 1 / 500 / 20)


@pytest.fixture(autouse=True)
def _frames_at_checkpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headless, Textual paints every frame and throws it away (the driver shows nothing):
    a third of a test's CPU. Here the top screen's frames are painted when a test looks
    (``settle`` paints what changed since the last look; a screenshot paints the whole
    screen anew, as before), so every state a test checks is still rendered, with the
    same lines; the frames in between, which nobody sees, are not."""
    from textual.screen import Screen

    paint = Screen._compositor_refresh

    def refresh(self: Screen[Any]) -> None:
        app = self.app
        if app.is_headless and not app.is_inline and self is app.screen:
            self._dirty_widgets.clear()  # their regions wait in the compositor
            app._update_mouse_over(self)
        else:
            paint(self)

    monkeypatch.setattr(Screen, "_compositor_refresh", refresh)
    monkeypatch.setattr(tui_support, "paint_frame", paint)


# Textual parses CSS (each widget's DEFAULT_CSS, the app's and the screens' CSS) per app:
# the same texts with the same theme variables, parsed again by every test and again when
# the theme is applied. The parse is a pure function of those, so one run keeps the rules
# it made (Textual keeps them per stylesheet; here, across the apps of a run).
_PARSED_CSS: dict[tuple[object, ...], list[Any]] = {}


@pytest.fixture(autouse=True)
def _css_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.css.stylesheet import Stylesheet

    parse = Stylesheet._parse_rules

    def parse_once(
        self: Stylesheet,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[Any]:
        key = (css, read_from, is_default_rules, tie_breaker, scope,
               tuple(sorted(self._variables.items())))  # fmt: skip
        rules = _PARSED_CSS.get(key)
        if rules is None:
            rules = _PARSED_CSS[key] = parse(
                self, css, read_from, is_default_rules, tie_breaker, scope
            )
        return rules

    monkeypatch.setattr(Stylesheet, "_parse_rules", parse_once)
