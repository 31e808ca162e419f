def test_demo_loads_and_check_passes(kitops):
    assert kitops("demo", "--as-of", "2026-11-22").code == 0
    result = kitops("db", "check")
    assert result.code == 0, result.err
    assert result.out.startswith("ok: 25 balances")
