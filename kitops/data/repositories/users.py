"""Users: who may act, looked up by name or by the login bound to them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kitops.data.schema import UserRow
from kitops.domain import roles
from kitops.domain.users import parse_user_name
from kitops.errors import InvalidInput
from kitops.i18n import _


class Users:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, name: str, *, lock: bool = False) -> UserRow | None:
        query = select(UserRow).where(UserRow.name == name)
        if lock and self.session.get_bind().dialect.name != "sqlite":
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def get(self, name: str, *, lock: bool = False) -> UserRow:
        row = self.find(parse_user_name(name), lock=lock)
        if row is None:
            raise InvalidInput("user", name, _("no user has this name (see `kitops user list`)"))
        return row

    def bound_to(self, login: str) -> UserRow | None:
        """The user a login acts as, if any."""
        return self.session.scalars(select(UserRow).where(UserRow.login == login)).first()

    def active_admins(self) -> int:
        return self.session.scalar(
            select(func.count()).where(UserRow.role == roles.Role.ADMIN.value, UserRow.active)
        ) or 0  # fmt: skip
