"""Persistence: SQLAlchemy rows, the database handle, repositories and migrations."""
