"""The private PostgreSQL of `tests/support/postgres.py`: reachable by its URL, and emptied
between tests."""

import psycopg

from tests.support.postgres import PostgresServer


def test_the_url_reaches_the_installed_postgresql(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("select version()").fetchone()
    assert row is not None
    assert f"PostgreSQL {postgres_server.major}" in row[0]


def test_reset_drops_the_tables_of_an_earlier_test(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url) as conn:
        conn.execute("create table dreams (id int primary key)")
        conn.execute("insert into dreams values (1)")
    postgres_server.reset()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select to_regclass('public.dreams')").fetchone() == (None,)
        conn.execute("create table dreams (id int primary key)")  # the schema is usable again
