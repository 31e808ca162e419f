"""The fixed-width text tables the command line and the reports print: widths counted in
terminal cells (umlauts one, CJK two, combining marks none), cut cells ending in ``…``,
text columns giving way to a width while numbers keep theirs."""

from __future__ import annotations

import pytest

from kitops.domain.text_table import cell_width, column_widths, fit, render, truncate


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("", 0),
        ("LON-FRIDGE", 10),
        ("Größe", 5),  # umlauts and ß: one cell each
        ("Kühlschrank Süd", 15),
        ("数量", 4),  # CJK: two cells each
        ("ｑｔｙ", 6),  # full-width forms
        ("e\u0301", 1),  # e and a combining acute accent
        ("a\u200db", 2),  # a zero-width joiner takes no cell
    ],
)
def test_cell_width_counts_terminal_cells(text: str, cells: int) -> None:
    assert cell_width(text) == cells


def test_truncate_cuts_to_the_width_with_an_ellipsis() -> None:
    assert truncate("LON-FRIDGE", 10) == "LON-FRIDGE"
    assert truncate("LON-FRIDGE", 6) == "LON-F…"
    assert truncate("Größenordnung", 6) == "Größe…"
    assert truncate("数量数量", 5) == "数量…"  # a wide character never half-shown
    assert cell_width(truncate("数量数量", 4)) <= 4
    assert truncate("abc", 1) == "…"
    assert truncate("abc", 0) == ""


def test_fit_pads_left_or_right_by_cells() -> None:
    assert fit("5", 4, right=True) == "   5"
    assert fit("Größe", 7) == "Größe  "
    assert fit("数量", 6) == "数量  "
    assert fit("Fläschchen", 6) == "Fläsc…"


def test_a_table_lines_up_umlauts_and_wide_characters() -> None:
    lines = render(
        ["Lagerort", "Menge"],
        [["Kühlschrank", "1.250"], ["数量の棚", "5"], ["LON", "12"]],
        right=[False, True],
    )
    assert lines == [
        "Lagerort     Menge",
        "─" * 18,
        "Kühlschrank  1.250",
        "数量の棚         5",
        "LON             12",
    ]
    assert {cell_width(line) for line in lines} == {18}


def test_no_line_ends_in_spaces() -> None:
    lines = render(["lot", "note"], [["A-1", ""], ["B-22", "x"]], right=[False, False])
    assert all(line == line.rstrip() for line in lines)
    assert lines[2] == "A-1"


def test_text_columns_give_way_to_the_width_and_numbers_keep_theirs() -> None:
    rows = [["a" * 40, "b" * 40, "123456789"], ["short", "also short", "1"]]
    lines = render(["name", "product", "qty"], rows, right=[False, False, True], width=50)
    assert all(cell_width(line) <= 50 for line in lines)
    assert lines[2].endswith("123456789")
    assert lines[2].split()[0] == "a" * 17 + "…"  # 18 cells: two columns share 37
    assert "short" in lines[3]


def test_a_column_never_narrower_than_its_heading() -> None:
    widths = column_widths(
        ["a long heading", "qty"], [["x" * 30, "1"]], shrinkable=[True, False], width=10
    )
    assert widths == [len("a long heading"), 3]


def test_without_a_width_nothing_is_cut() -> None:
    lines = render(["text"], [["y" * 300]], right=[False])
    assert lines[2] == "y" * 300
