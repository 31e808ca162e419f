"""``kitops kit list --limit N``: the first N kits of the list (the soonest to expire), and
a line saying more match; the JSON holds the N kits only."""

from __future__ import annotations

from e2e_support import assert_bad_input, json_of


def test_the_limit_keeps_the_first_kits_and_says_more_match(demo):
    every = json_of(demo, "kit", "list", "--json")
    assert len(every) > 3
    first = json_of(demo, "kit", "list", "--limit", "3", "--json")
    assert first == every[:3]
    text = demo("kit", "list", "--limit", "3")
    assert text.code == 0, text.err
    assert [line.split()[0] for line in text.out.splitlines()[2:5]] == [
        k["serial"] for k in every[:3]
    ]
    assert "the first 3 kits; more match" in text.out
    whole = demo("kit", "list", "--limit", str(len(every)))
    assert whole.code == 0, whole.err
    assert whole.out == demo("kit", "list").out  # all of them: no line about more
    reserved = json_of(demo, "kit", "list", "--status", "reserved", "--json")
    assert (
        json_of(demo, "kit", "list", "--status", "reserved", "--limit", "1", "--json")
        == (reserved[:1])
    )


def test_a_limit_below_one_is_bad_input(demo):
    assert_bad_input(demo("kit", "list", "--limit", "0"), "--limit")
