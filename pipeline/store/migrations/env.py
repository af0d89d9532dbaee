"""Alembic's entry point: migrations run on the connection pipeline.store.database.migrate hands over."""

from alembic import context
from alembic.ddl.impl import DefaultImpl
from sqlalchemy import text

from pipeline.store.database import VERSION_TABLE_SCHEMA


class DuckDBImpl(DefaultImpl):
    """Alembic knows no DuckDB out of the box; its DDL is PostgreSQL-like and transactional."""

    __dialect__ = "duckdb"
    transactional_ddl = True


connection = context.config.attributes["connection"]
with connection.begin():
    # the version table lives in `store`, which the first migration would otherwise create
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {VERSION_TABLE_SCHEMA}"))
context.configure(connection=connection, version_table_schema=VERSION_TABLE_SCHEMA, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
