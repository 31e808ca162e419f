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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copy, drop and rename; SQLite would refuse to
            # drop a table others point at while foreign keys are enforced. Switch them off
            # for the migration (before any transaction begins) and check them after.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        connection.commit()
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


if context.is_offline_mode():
    raise RuntimeError("kitops migrations run online only: `kitops db upgrade`")
run_migrations_online()
