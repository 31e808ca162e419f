"""Alembic environment: runs on the engine kitops hands over, in batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from kitops.data.schema import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine  # type: ignore[no-any-return]
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass an engine or set sqlalchemy.url")
    return create_engine(url)


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("kitops migrations run online only: `kitops db upgrade`")
run_migrations_online()
