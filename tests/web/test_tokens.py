"""API tokens in the service layer: made once and kept as a hash, verified, revoked,
expired, refused to anyone but an admin (and that refusal audited)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from kitops.data.schema import ApiTokenRow
from kitops.errors import InvalidInput, NotAllowed
from kitops.services import tokens, users
from kitops.services.unit_of_work import UnitOfWork
from tests.web.api_support import audit_rows

DAY = date(2026, 11, 22)


def _reader(db):
    return UnitOfWork(db, "api", readonly=True, identify=False, bootstrap=False)


def test_a_token_is_shown_once_kept_as_its_hash_and_acts_as_its_user(db, web):
    web.user("stocky", "stockroom")
    made = tokens.create_token(UnitOfWork(db, "tester"), "shop", "stocky", read_only=True)
    assert made.secret.startswith("kt_")
    assert made.token.read_only
    assert made.token.state == "active"
    with db.read_sessions() as session:
        row = session.scalars(select(ApiTokenRow)).one()
        assert row.token_hash == hashlib.sha256(made.secret.encode()).hexdigest()
        assert made.secret not in repr([getattr(row, c.key) for c in ApiTokenRow.__table__.c])
        assert row.last_used_at is None
    holder = tokens.verify_token(_reader(db), made.secret)
    assert (holder.user, holder.role, holder.token, holder.read_only) == (
        "stocky",
        "stockroom",
        "shop",
        True,
    )
    listed = tokens.list_tokens(UnitOfWork(db, "tester", readonly=True))
    assert [(t.name, t.user, t.state) for t in listed] == [("shop", "stocky", "active")]
    assert listed[0].last_used_at is not None
    (created,) = audit_rows(db, action="token.create")
    assert created.actor == "tester"
    assert created.entity_key == "shop"
    assert made.secret not in str(created.after)


def test_revoked_expired_unknown_and_disabled_user_tokens_prove_nobody(db, web):
    web.user("stocky", "stockroom")
    web.user("other", "stockroom")
    admin = UnitOfWork(db, "tester")
    revoked = tokens.create_token(admin, "old", "stocky").secret
    expiring = tokens.create_token(admin, "brief", "stocky", expires=DAY, today=DAY).secret
    disabled = tokens.create_token(admin, "gone", "other").secret
    tokens.revoke_token(admin, "old")
    users.set_active(admin, "other", False)
    with pytest.raises(tokens.Unauthenticated, match="old is revoked"):
        tokens.verify_token(_reader(db), revoked)
    end_of_day = datetime(2026, 11, 23, tzinfo=UTC)
    assert tokens.verify_token(_reader(db), expiring, now=end_of_day - timedelta(seconds=1))
    with pytest.raises(tokens.Unauthenticated, match="brief is expired"):
        tokens.verify_token(_reader(db), expiring, now=end_of_day)
    with pytest.raises(tokens.Unauthenticated, match="gone is disabled"):
        tokens.verify_token(_reader(db), disabled)
    with pytest.raises(tokens.Unauthenticated, match="unknown API token"):
        tokens.verify_token(_reader(db), "kt_" + "A" * 43)
    with pytest.raises(tokens.Unauthenticated, match="unknown API token"):
        tokens.verify_token(_reader(db), "not a token")
    with pytest.raises(tokens.Unauthenticated, match="needs an API token"):
        tokens.verify_token(_reader(db), None)
    (row,) = audit_rows(db, action="token.revoke")
    assert row.actor == "tester"
    assert row.entity_key == "old"


def test_only_an_admin_manages_tokens_and_the_refusal_is_audited(db, web):
    web.user("boss", "manager")
    with pytest.raises(NotAllowed, match="boss \\(manager\\) may not create API tokens"):
        tokens.create_token(UnitOfWork(db, "boss"), "mine", "boss")
    (refusal,) = audit_rows(db, action="access.refused")
    assert refusal.actor == "boss"
    assert refusal.entity_key == "token.manage"
    with db.read_sessions() as session:
        assert session.scalars(select(ApiTokenRow)).first() is None


def test_bad_token_input_names_the_field_and_writes_nothing(db, web):
    web.user("stocky", "stockroom")
    admin = UnitOfWork(db, "tester")
    with pytest.raises(InvalidInput, match=r"expires '2026-11-21': must be today or a later day"):
        tokens.create_token(admin, "late", "stocky", expires="2026-11-21", today=DAY)
    with pytest.raises(InvalidInput, match=r"^expires 'soon'"):
        tokens.create_token(admin, "late", "stocky", expires="soon")
    with pytest.raises(InvalidInput, match=r"^NAME 'x{60}': must be at most 49 characters"):
        tokens.create_token(admin, "x" * 60, "stocky")
    with pytest.raises(InvalidInput, match=r"^user 'nobody'"):
        tokens.create_token(admin, "ghost", "nobody")
    tokens.create_token(admin, "twice", "stocky")
    with pytest.raises(Exception, match="a token named twice exists already"):
        tokens.create_token(admin, "twice", "stocky")
    with pytest.raises(InvalidInput, match=r"^NAME 'nope'"):
        tokens.revoke_token(admin, "nope")
    with db.read_sessions() as session:
        rows = session.scalars(select(ApiTokenRow.name)).all()
        assert rows == ["twice"]
