"""The fake Daytona API (tests/support/daytona_server.py), driven end to end by the real
`daytona` SDK."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from daytona import (
    AsyncDaytona,
    AsyncSandbox,
    CreateSandboxFromSnapshotParams,
    Daytona,
    DaytonaAuthenticationError,
    DaytonaConfig,
    DaytonaError,
    DaytonaFileNotFoundError,
    DaytonaInternalServerError,
    DaytonaNotFoundError,
    DaytonaProcessExecutionTimeoutError,
    DaytonaRateLimitError,
    FileDownloadRequest,
    ListSandboxesQuery,
)

from tests.support.daytona_server import FakeDaytona

pytestmark = pytest.mark.asyncio


def config_for(fake: FakeDaytona, api_key: str | None = None) -> DaytonaConfig:
    return DaytonaConfig(api_key=api_key or fake.api_key, api_url=fake.url, target="us")


@pytest_asyncio.fixture
async def client(fake_daytona: FakeDaytona) -> AsyncIterator[AsyncDaytona]:
    async with AsyncDaytona(config_for(fake_daytona)) as daytona:
        yield daytona


@pytest_asyncio.fixture
async def sandbox(client: AsyncDaytona) -> AsyncSandbox:
    return await client.create(CreateSandboxFromSnapshotParams(labels={"suite": "fake"}))


async def test_create_records_labels_and_intervals(
    fake_daytona: FakeDaytona, client: AsyncDaytona
) -> None:
    params = CreateSandboxFromSnapshotParams(
        labels={"codreamer": "dream-1"}, auto_stop_interval=0, auto_delete_interval=30
    )
    created = await client.create(params)

    assert created.state == "started"
    assert created.labels["codreamer"] == "dream-1"
    assert (created.auto_stop_interval, created.auto_delete_interval) == (0, 30)
    [live] = fake_daytona.live_sandboxes()
    assert live["id"] == created.id
    assert live["labels"]["codreamer"] == "dream-1"
    assert (live["auto_stop_interval"], live["auto_delete_interval"]) == (0, 30)
    assert fake_daytona.requests == [("POST", "/api/sandbox")]


async def test_get_and_list_by_labels(client: AsyncDaytona) -> None:
    mine = await client.create(CreateSandboxFromSnapshotParams(labels={"codreamer": "a"}))
    await client.create(CreateSandboxFromSnapshotParams(labels={"codreamer": "b"}))

    fetched = await client.get(mine.id)
    listed = [item async for item in client.list(ListSandboxesQuery(labels={"codreamer": "a"}))]

    assert (fetched.id, fetched.labels["codreamer"]) == (mine.id, "a")
    assert [item.id for item in listed] == [mine.id]


async def test_upload_download_round_trip(fake_daytona: FakeDaytona, sandbox: AsyncSandbox) -> None:
    await sandbox.fs.upload_file(b'{"answer": 42}', "/workspace/a.json")
    await sandbox.fs.upload_file(b"relative", "notes/b.txt")

    assert await sandbox.fs.download_file("/workspace/a.json") == b'{"answer": 42}'
    root = fake_daytona.sandbox_root(sandbox.id)
    assert (root / "workspace/a.json").read_bytes() == b'{"answer": 42}'
    assert (root / "home/daytona/notes/b.txt").read_bytes() == b"relative"
    [info] = await sandbox.fs.list_files("/workspace")
    assert (info.path, info.size, info.is_dir) == ("/workspace/a.json", 14, False)


async def test_download_of_missing_file_reports_error(sandbox: AsyncSandbox) -> None:
    await sandbox.fs.upload_file(b"here", "/workspace/present.txt")

    present, missing = await sandbox.fs.download_files(
        [
            FileDownloadRequest(source="/workspace/present.txt"),
            FileDownloadRequest(source="/workspace/missing.txt"),
        ]
    )

    assert (present.result, present.error) == (b"here", None)
    assert missing.result is None
    assert missing.error == "file not found: /workspace/missing.txt"
    assert missing.error_details is not None
    assert missing.error_details.code == "FILE_NOT_FOUND"
    with pytest.raises(DaytonaFileNotFoundError):
        await sandbox.fs.download_file("/workspace/missing.txt")


async def test_exec_runs_in_the_sandbox_directory(
    fake_daytona: FakeDaytona, sandbox: AsyncSandbox
) -> None:
    await sandbox.fs.upload_file(b"data", "/workspace/in.txt")

    shown = await sandbox.process.exec("echo hi && pwd", cwd="/workspace")
    copied = await sandbox.process.exec("cp /workspace/in.txt out.txt && cat out.txt")
    failed = await sandbox.process.exec("echo oops >&2; exit 3")

    assert (shown.exit_code, shown.result) == (0, "hi\n/workspace\n")
    assert (copied.exit_code, copied.result) == (0, "data")
    assert (fake_daytona.sandbox_root(sandbox.id) / "home/daytona/out.txt").read_text() == "data"
    assert (failed.exit_code, failed.result) == (3, "oops\n")


async def test_exec_timeout_raises(sandbox: AsyncSandbox) -> None:
    with pytest.raises(DaytonaProcessExecutionTimeoutError) as raised:
        await sandbox.process.exec("sleep 5", timeout=1)

    assert raised.value.status_code == 408


async def test_code_run_runs_python(sandbox: AsyncSandbox) -> None:
    result = await sandbox.process.code_run("print(1+1)")

    assert (result.exit_code, result.result) == (0, "2\n")
    assert result.artifacts is not None
    assert result.artifacts.stdout == "2\n"


async def test_work_and_home_dirs(sandbox: AsyncSandbox) -> None:
    assert await sandbox.get_work_dir() == "/home/daytona"
    assert await sandbox.get_user_home_dir() == "/home/daytona"


async def test_delete_removes_the_sandbox(
    fake_daytona: FakeDaytona, client: AsyncDaytona, sandbox: AsyncSandbox
) -> None:
    root = fake_daytona.sandbox_root(sandbox.id)

    await client.delete(sandbox)

    assert fake_daytona.live_sandboxes() == []
    assert sandbox.state == "destroyed"
    assert not root.exists()
    with pytest.raises(DaytonaNotFoundError) as raised:
        await client.get(sandbox.id)
    assert raised.value.status_code == 404


@pytest.mark.parametrize(
    ("status", "error_type"), [(500, DaytonaInternalServerError), (429, DaytonaRateLimitError)]
)
async def test_injected_create_failures(
    fake_daytona: FakeDaytona, client: AsyncDaytona, status: int, error_type: type[DaytonaError]
) -> None:
    fake_daytona.fail_create.append(status)

    with pytest.raises(error_type) as raised:
        await client.create()

    assert raised.value.status_code == status
    if status == 429:
        assert raised.value.headers["Retry-After"] == "1"
    assert fake_daytona.live_sandboxes() == []
    assert (await client.create()).state == "started"


async def test_wrong_api_key_is_rejected(fake_daytona: FakeDaytona) -> None:
    async with AsyncDaytona(config_for(fake_daytona, api_key="wrong")) as daytona:
        with pytest.raises(DaytonaAuthenticationError) as raised:
            await daytona.create()

    assert raised.value.status_code == 401


async def test_sync_client(fake_daytona: FakeDaytona) -> None:
    def drive() -> tuple[bytes, str, list[str]]:
        daytona = Daytona(config_for(fake_daytona))
        created = daytona.create(CreateSandboxFromSnapshotParams(labels={"codreamer": "sync"}))
        created.fs.upload_file(b"sync", "/workspace/s.txt")
        downloaded = created.fs.download_file("/workspace/s.txt")
        output = created.process.exec("cat s.txt", cwd="/workspace").result
        query = ListSandboxesQuery(labels={"codreamer": "sync"})
        listed = [item.id for item in daytona.list(query)]
        daytona.delete(created)
        return downloaded, output, listed

    downloaded, output, listed = await asyncio.to_thread(drive)

    assert (downloaded, output, len(listed)) == (b"sync", "sync", 1)
    assert fake_daytona.live_sandboxes() == []
