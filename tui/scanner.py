"""Telling a barcode scanner from a person at the same keyboard.

A USB scanner is a keyboard: it types the whole code within milliseconds and presses
Enter. A person types more slowly, and on most screens a single letter is a command
("s" ships a kit). So every screen holds printable keys for a moment (``gap``): keys that
keep coming faster than that and end with Enter are a scan, handed to the app whole and
never typed into a field or taken as commands; keys that stop coming are replayed, in
order, as the typing they were. A person does not notice the hold (50 ms by default);
a scanner's code never leaks into a search field or fires a key binding.

``ScanDetector`` is the pure part (tested with explicit times); the app feeds it every
key before its own dispatch and arms the timer that replays held keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

GS = "\x1d"
# a scanner types at least this many characters for any code kitops prints or reads
MIN_SCAN_LENGTH = 6
DEFAULT_GAP_S = 0.05


@dataclass
class Held:
    """Keys typed so far in a burst that may still turn out to be a scan."""

    keys: list[object] = field(default_factory=list)  # the events, replayed in order
    text: list[str] = field(default_factory=list)
    last_at: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """What to do with one key: ``hold`` it (the burst goes on); ``replay`` the keys
    held before it as typing (then handle this key as usual unless it is held too);
    ``scan`` is the whole code when this key (Enter) ends a scan."""

    hold: bool
    replay: tuple[object, ...] = ()
    scan: str | None = None
    keys: tuple[object, ...] = ()  # with ``scan``: the key events that typed it


class ScanDetector:
    """Judges each key by the time since the key before it (``now``: seconds, any
    monotonic clock; tests pass their own)."""

    def __init__(
        self,
        gap: float = DEFAULT_GAP_S,
        *,
        min_length: int = MIN_SCAN_LENGTH,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gap = gap
        self.min_length = min_length
        self.now = now
        self.held = Held()

    @property
    def holding(self) -> bool:
        return bool(self.held.keys)

    def take(
        self, key: object, name: str, character: str | None, at: float | None = None
    ) -> Verdict:
        """Judge one key event (``name`` as Textual names keys, ``character`` what it
        types, if anything; ``at`` when it was typed, by default the detector's clock)."""
        at = self.now() if at is None else at
        held = self.held
        in_burst = bool(held.keys) and at - held.last_at <= self.gap
        if name == "enter":
            if in_burst and len(held.text) >= self.min_length:
                self.held = Held()
                return Verdict(hold=True, scan="".join(held.text), keys=(*held.keys, key))
            return Verdict(hold=False, replay=self.release())
        typed = _typed(name, character)
        if typed is None:  # a function key, an arrow: whatever was held is typing
            return Verdict(hold=False, replay=self.release())
        replay = () if in_burst else self.release()
        self.held.keys.append(key)
        self.held.text.append(typed)
        self.held.last_at = at
        return Verdict(hold=True, replay=replay)

    def release(self) -> tuple[object, ...]:
        """The keys held so far, to be handled as typing (the burst ended)."""
        keys = tuple(self.held.keys)
        self.held = Held()
        return keys


def _typed(name: str, character: str | None) -> str | None:
    """What a key adds to a code: a printable character, or GS (FNC1), which a scanner
    types as ctrl+]."""
    if character == GS or name == "ctrl+right_square_bracket":
        return GS
    if character is not None and len(character) == 1 and character.isprintable():
        return character
    return None
