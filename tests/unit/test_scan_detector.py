"""A scanner's keys told from a person's, by the time between keys (explicit times)."""

from __future__ import annotations

from kitops.tui.scanner import GS, ScanDetector, Verdict


class Times:
    def __init__(self, *moments: float) -> None:
        self.moments = list(moments)

    def __call__(self) -> float:
        return self.moments.pop(0)


def feed(detector: ScanDetector, keys: list[tuple[str, str | None]]) -> list[Verdict]:
    return [detector.take(name, name, char) for name, char in keys]


def chars(text: str) -> list[tuple[str, str | None]]:
    return [("ctrl+right_square_bracket" if c == GS else c, c) for c in text]


def test_a_fast_burst_ending_in_enter_is_one_scan_with_its_keys() -> None:
    code = "]d201095011015300031721123110LOT7" + GS + "2125"
    detector = ScanDetector(0.05, now=Times(*[i * 0.003 for i in range(len(code) + 1)]))
    verdicts = feed(detector, [*chars(code), ("enter", "\r")])
    *typed, end = verdicts
    assert all(v.hold and not v.replay for v in typed)
    assert end.scan == code
    assert len(end.keys) == len(code) + 1
    assert not detector.holding


def test_a_person_typing_gets_every_key_back_in_order() -> None:
    detector = ScanDetector(0.05, now=Times(*[i * 0.18 for i in range(8)]))
    verdicts = feed(detector, [*chars("DS05-24"), ("enter", "\r")])
    replayed = [key for v in verdicts for key in v.replay]
    assert replayed == list("DS05-24")  # each key replayed when the next came too late
    assert verdicts[-1].scan is None
    assert not verdicts[-1].hold


def test_a_short_fast_burst_is_typing_not_a_scan() -> None:
    detector = ScanDetector(0.05, now=Times(0.0, 0.01, 0.02, 0.03))
    verdicts = feed(detector, [*chars("ab1"), ("enter", "\r")])
    assert verdicts[-1].scan is None
    assert verdicts[-1].replay == ("a", "b", "1")


def test_a_pause_inside_a_burst_splits_it() -> None:
    # six fast keys, a pause longer than the gap, then six fast keys and Enter: only the
    # second burst is the scan; the first is replayed as typing
    moments = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06]
    detector = ScanDetector(0.05, now=Times(*moments))
    verdicts = feed(detector, [*chars("abcdef"), *chars("123456"), ("enter", "\r")])
    assert verdicts[6].replay == tuple("abcdef")
    assert verdicts[-1].scan == "123456"


def test_a_function_key_ends_the_burst_as_typing() -> None:
    detector = ScanDetector(0.05, now=Times(0.0, 0.001, 0.002))
    verdicts = feed(detector, [*chars("ab"), ("f3", None)])
    assert verdicts[-1].replay == ("a", "b")
    assert not verdicts[-1].hold


def test_the_gs_key_is_part_of_the_code() -> None:
    detector = ScanDetector(0.05, min_length=3, now=Times(0.0, 0.001, 0.002, 0.003))
    verdicts = feed(detector, [("a", "a"), ("ctrl+right_square_bracket", None), ("b", "b"),
                               ("enter", "\r")])  # fmt: skip
    assert verdicts[-1].scan == "a" + GS + "b"
