"""LangGraph checkpoints kept as files in each thread's own workspace (thread id = workspace id).

Layout, where `{ns}` is the percent-escaped checkpoint namespace (the root one is `ns-`):

    .checkpoints/ns-{ns}/{checkpoint_id}/checkpoint.json      checkpoint, metadata, parent id
    .checkpoints/ns-{ns}/{checkpoint_id}/writes/{uuid6}.json  the writes of one `put_writes` call

A put is one atomic file write, a `put_writes` call another; a checkpoint folder without
`checkpoint.json` (a put still in flight) is invisible. Values are serialised with `serde`,
stored as `[type, base64]`.

Only a put that starts a history (no parent) creates a missing workspace: once a dream has
released its workspace, later puts and writes of that run are dropped, not given a new one.
"""

import asyncio
import base64
import json
import logging
import random
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.serde.base import SerializerProtocol

from core.sync_bridge import run_blocking
from sandbox.base import SandboxBackend, SandboxGoneError, Workspace
from sandbox.factory import default_sandbox, get_backend
from sandbox.lifecycle import open_or_create

logger = logging.getLogger(__name__)
ResultT = TypeVar("ResultT")
ROOT = ".checkpoints"
NS_PREFIX = "ns-"
CHECKPOINT_FILE = "checkpoint.json"
WRITES_DIR = "writes"

Key = tuple[str, str]
"""A stored checkpoint: (checkpoint_ns, checkpoint_id)."""


@dataclass
class _LoopCache:
    """The workspaces connected on one event loop (async clients are bound to their loop)."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)
    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))


@dataclass
class _State:
    """What shallow copies of a saver (`with_allowlist`) share."""

    backend: SandboxBackend | None
    loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopCache] = field(
        default_factory=weakref.WeakKeyDictionary
    )


class WorkspaceCheckpointSaver(BaseCheckpointSaver[str]):
    """Stores thread `T`'s checkpoints in workspace `T`, which `T`'s first put creates.

    A config without a `thread_id` is not persisted: nothing is read or written for it.
    """

    def __init__(
        self, backend: SandboxBackend | None = None, *, serde: SerializerProtocol | None = None
    ) -> None:
        super().__init__(serde=serde)
        self._state = _State(backend)

    @property
    def backend(self) -> SandboxBackend:
        """The backend given, else the one the settings choose now (they may change)."""
        return self._state.backend or get_backend(default_sandbox())

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id = _thread_id(config)
        ns = config["configurable"].get("checkpoint_ns", "")
        checkpoint_id = get_checkpoint_id(config)
        folder = _folder(ns, checkpoint_id)
        if thread_id is None or not (
            opened := await self._open(thread_id, lambda workspace: _scan(workspace, folder))
        ):
            return None
        workspace, found = opened
        key = (ns, checkpoint_id or max((stored_id for _, stored_id in found), default=""))
        if key not in found:
            return None
        record = await _read_json(workspace, f"{_folder(*key)}/{CHECKPOINT_FILE}")
        return await self._tuple(workspace, thread_id, key, record, found[key])

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Newest first per thread; `config=None` lists every workspace the backend sees."""
        if config is None:
            thread_ids = [info.id for info in await self.backend.list()]
        elif (thread_id := _thread_id(config)) is not None:
            thread_ids = [thread_id]
        else:
            return
        ns = config["configurable"].get("checkpoint_ns") if config else None
        wanted_id = get_checkpoint_id(config) if config else None
        before_id = get_checkpoint_id(before) if before else None
        remaining = limit
        folder = _folder(ns)
        for thread_id in thread_ids:
            if not (opened := await self._open(thread_id, lambda ws: _scan(ws, folder))):
                continue
            workspace, found = opened
            for key in sorted(found, key=lambda key: (key[1], key[0]), reverse=True):
                if (wanted_id and key[1] != wanted_id) or (before_id and key[1] >= before_id):
                    continue
                if remaining is not None and remaining <= 0:
                    return
                record = await _read_json(workspace, f"{_folder(*key)}/{CHECKPOINT_FILE}")
                if filter and any(record["metadata"].get(k) != v for k, v in filter.items()):
                    continue
                if remaining is not None:
                    remaining -= 1
                yield await self._tuple(workspace, thread_id, key, record, found[key])

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Write `checkpoint.json`, channel values included, in one atomic write."""
        configurable = config["configurable"]
        ns = configurable.get("checkpoint_ns", "")
        next_config: RunnableConfig = {
            "configurable": {"checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}
        }
        thread_id = _thread_id(config)
        if thread_id is None:
            return next_config
        next_config["configurable"]["thread_id"] = thread_id
        parent_id = configurable.get("checkpoint_id")
        path = f"{_folder(ns, checkpoint['id'])}/{CHECKPOINT_FILE}"
        data = json.dumps(
            {
                "checkpoint": self._dumps(checkpoint),
                "metadata": get_serializable_checkpoint_metadata(config, metadata),
                "parent_checkpoint_id": parent_id,
            }
        )
        if not await self._open(
            thread_id, lambda workspace: workspace.write_file(path, data), create=parent_id is None
        ):
            logger.info("workspace %s is gone: checkpoint %s dropped", thread_id, checkpoint["id"])
        return next_config

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Write one file per call; calls are merged on read like `InMemorySaver` does."""
        name = f"{uuid6()}.json"  # taken before any await: file order is call order
        thread_id = _thread_id(config)
        if thread_id is None or not writes:
            return
        rows = [
            [WRITES_IDX_MAP.get(channel, idx), channel, *self._dumps(value)]
            for idx, (channel, value) in enumerate(writes)
        ]
        configurable = config["configurable"]
        folder = _folder(configurable.get("checkpoint_ns", ""), configurable["checkpoint_id"])
        path = f"{folder}/{WRITES_DIR}/{name}"
        data = json.dumps({"task_id": task_id, "task_path": task_path, "writes": rows})
        if not await self._open(thread_id, lambda workspace: workspace.write_file(path, data)):
            logger.info("workspace %s is gone: writes of task %s dropped", thread_id, task_id)

    async def adelete_thread(self, thread_id: str) -> None:
        """Remove the thread's `.checkpoints` folder; the workspace itself stays."""
        await self._open(str(thread_id), lambda workspace: workspace.remove(ROOT))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """`InMemorySaver`'s versions: a zero-padded counter, then a random tie-breaker."""
        number = 0 if current is None else int(str(current).split(".")[0])
        return f"{number + 1:032}.{random.random():016}"

    async def _open(
        self,
        thread_id: str,
        first: Callable[[Workspace], Awaitable[ResultT]],
        *,
        create: bool = False,
        retry: bool = True,
    ) -> tuple[Workspace, ResultT] | None:
        """The thread's workspace and what `first` did in it; None if there is no workspace.

        Workspaces are connected once per event loop; one that has gone since then is looked
        up once more. With `create`, a missing workspace is created.
        """
        cache = self._state.loops.setdefault(asyncio.get_running_loop(), _LoopCache())
        async with cache.locks[thread_id]:
            workspace = cache.workspaces.get(thread_id)
            if workspace is None and create:
                workspace = await open_or_create(self.backend, thread_id)
            elif workspace is None:
                try:
                    workspace = await self.backend.connect(thread_id)
                except SandboxGoneError:
                    return None
            cache.workspaces[thread_id] = workspace
        try:
            return workspace, await first(workspace)
        except SandboxGoneError:
            if cache.workspaces.get(thread_id) is workspace:
                del cache.workspaces[thread_id]
            if not retry:
                raise
        return await self._open(thread_id, first, create=create, retry=False)

    async def _tuple(
        self,
        workspace: Workspace,
        thread_id: str,
        key: Key,
        record: dict[str, Any],
        write_files: list[str],
    ) -> CheckpointTuple:
        batches = await asyncio.gather(*(_read_json(workspace, path) for path in write_files))

        def config(checkpoint_id: str) -> RunnableConfig:
            return {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": key[0],
                    "checkpoint_id": checkpoint_id,
                }
            }

        parent_id = record["parent_checkpoint_id"]
        return CheckpointTuple(
            config=config(key[1]),
            checkpoint=self._loads(record["checkpoint"]),
            metadata=record["metadata"],
            parent_config=config(parent_id) if parent_id else None,
            pending_writes=self._pending_writes(batches),
        )

    def _pending_writes(self, batches: Sequence[dict[str, Any]]) -> list[PendingWrite]:
        """Regular writes are write-once per (task, idx), special ones (idx < 0) last-wins."""
        kept: dict[tuple[str, int], tuple[str, list[str], str]] = {}
        for batch in batches:
            for idx, channel, *value in batch["writes"]:
                key = (batch["task_id"], idx)
                if idx < 0 or key not in kept:
                    kept[key] = (channel, value, batch["task_path"])
        ordered = sorted(kept, key=lambda key: writes_sort_key(kept[key][2], *key))
        return [
            (task_id, kept[task_id, idx][0], self._loads(kept[task_id, idx][1]))
            for task_id, idx in ordered
        ]

    def _dumps(self, value: Any) -> list[str]:
        kind, data = self.serde.dumps_typed(value)
        return [kind, base64.b64encode(data).decode()]

    def _loads(self, stored: list[str]) -> Any:
        return self.serde.loads_typed((stored[0], base64.b64decode(stored[1])))

    # The sync API, for `graph.invoke`: each call runs its async twin on the background loop.

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return run_blocking(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        listing = self.alist(config, filter=filter, before=before, limit=limit)
        return iter(run_blocking(_collect(listing)))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return run_blocking(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        run_blocking(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        run_blocking(self.adelete_thread(thread_id))


def _thread_id(config: RunnableConfig) -> str | None:
    thread_id = config.get("configurable", {}).get("thread_id")
    return None if thread_id in (None, "") else str(thread_id)


def _folder(ns: str | None, checkpoint_id: str | None = None) -> str:
    """`.checkpoints` (no namespace), a namespace's folder, or one checkpoint's folder."""
    if ns is None:
        return ROOT
    folder = f"{ROOT}/{NS_PREFIX}{quote(ns, safe='')}"
    return folder if checkpoint_id is None else f"{folder}/{quote(checkpoint_id, safe='')}"


async def _scan(workspace: Workspace, folder: str) -> dict[Key, list[str]]:
    """The checkpoints put below `folder`, each with its writes files in call order."""
    put: set[Key] = set()
    writes: defaultdict[Key, list[str]] = defaultdict(list)
    for path in await workspace.list_files(folder):
        full = f"{folder}/{path}"
        parts = full.split("/")[1:]
        if len(parts) < 3 or parts[-1].startswith("."):  # staging files of atomic writes
            continue
        key = (unquote(parts[0].removeprefix(NS_PREFIX)), unquote(parts[1]))
        if parts[2:] == [CHECKPOINT_FILE]:
            put.add(key)
        elif parts[2] == WRITES_DIR:
            writes[key].append(full)
    return {key: writes[key] for key in put}


async def _read_json(workspace: Workspace, path: str) -> Any:
    return json.loads(await workspace.read_file(path))


async def _collect(items: AsyncIterator[CheckpointTuple]) -> list[CheckpointTuple]:
    return [item async for item in items]
