"""Checks shared by the benchmark miniatures (tests/test_*benchmark*.py)."""

from __future__ import annotations


def assert_the_stock_command_and_its_sql_agree(out: str) -> None:
    """``benchmarks/stock_command.py`` ran: the command and the hand-written SQL printed
    the same number of lines and units, and the service was timed."""
    lines = out.splitlines()
    command = next(line for line in lines if line.startswith("kitops stock --location LON:"))
    by_hand = next(line for line in lines if line.startswith("SQL program:"))
    assert command.split(":", 1)[1].strip() == by_hand.split(":", 1)[1].strip()
    assert " lines, " in command
    assert any(line.startswith("stock on hand service") for line in lines)
    # the service and its SQL answer the same question: the same lines in the same order
    service = next(line for line in lines if line.startswith("stock LON:"))
    assert "(the same lines in the same order)" in service, service
