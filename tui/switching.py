"""Switching screens without re-making what has not changed.

A scan opens its screen from wherever the user is (the stock list from the dashboard);
Textual then restyles the whole screen it returns to and re-makes every key of the
footer (a widget each, styled on mount), although neither changed while the screen was
away. On the screens a scan opens, together most of a switch's cost:

- ``SteadyFooter`` compares the keys it would show with those it shows and keeps them
  when they are the same (on every return to the screen and every change of focus);
- ``keep_styles`` (a screen's handler of ``ScreenResume``) skips the restyle: a screen
  coming back from another mode has the styles it left with, and a change of theme in
  the meantime is applied by the switch itself (Textual refreshes the CSS of a screen
  whose stylesheet is out of date)."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.screen import Screen

from .widgets import KitopsFooter


class SteadyFooter(KitopsFooter):
    """kitops' footer (two lines when the keys need them), kept as it is while its keys
    do not change."""

    _keys: tuple[Any, ...] | None = None  # what the footer shows now

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            keys = tuple(
                (binding.key, binding.action, binding.description, enabled, tooltip)
                for _, binding, enabled, tooltip in screen.active_bindings.values()
                if binding.show
            )
            if keys == self._keys:
                return
            self._keys = keys
        super().bindings_changed(screen)


def keep_styles(event: events.ScreenResume) -> None:
    """The screen resumes with the styles it has (see the module's docstring)."""
    event.refresh_styles = False
