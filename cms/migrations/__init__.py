"""Alembic migrations: they own the database schema."""
