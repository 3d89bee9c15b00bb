"""Alembic environment. Always run through `cms.migrate`, which passes an open connection."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from cms import models as models  # registers every table on SQLModel.metadata
from cms.models import is_schema_object

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `cms db upgrade`, not the alembic command.")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
    compare_type=True,
    include_name=is_schema_object,  # the full-text index is made by hand (models.SEARCH_DDL)
)
with context.begin_transaction():
    context.run_migrations()
