"""A warm pool: started Daytona sandboxes kept ready, so a dream claims one instead of waiting
for Daytona to create it.

A member is a sandbox labelled `codreamer=true`, `codreamer-warm=true` and
`codreamer-pool=<pool id>`, created with the same auto-stop and auto-delete intervals (and
snapshot) as a dream's. A server keeps its pool filled in the background (`WarmPool`); any
process with DAYTONA_POOL_SIZE > 0 claims members, of any pool (`PooledDaytonaBackend`).

Claiming is atomic across processes and machines because the member itself decides: the claim
runs `mkdir` of a marker directory in the member, which succeeds for exactly one caller. Only
the winner relabels the member as the dream's (`codreamer-dream=<id>`, pool labels dropped), so
from then on it is an ordinary dream sandbox: found by dream id, released, resumed and listed as
any other. Labels alone could not decide: Daytona replaces a sandbox's labels without
compare-and-set, so two claimers could each write theirs, and each read its own back before the
other's write. A member found stopped or gone is skipped and deleted.
"""

import asyncio
import logging
import os
import random
import re
import shlex
import socket
import uuid
from contextlib import suppress

from daytona import AsyncSandbox, DaytonaError

from sandbox.base import (
    OUR_LABEL,
    SandboxBackend,
    SandboxError,
    WorkspaceInfo,
    check_workspace_id,
)
from sandbox.daytona import (
    DREAM_LABEL,
    FIND_WORKSPACE_DIR,
    POOL_LABEL,
    WARM_LABEL,
    DaytonaBackend,
    DaytonaWorkspace,
    last_line,
)
from sandbox.daytona_client import describe_error

logger = logging.getLogger(__name__)
TAKEN_EXIT_CODE = 75
MARK_SCRIPT = f'mkdir "${{HOME:-/tmp}}/.codreamer-claimed" 2>/dev/null || exit {TAKEN_EXIT_CODE}'
"""Marks a member as taken; exits `TAKEN_EXIT_CODE` when someone took it first."""
CLAIM_SCRIPT = "sh -c " + shlex.quote(f"{MARK_SCRIPT}\n{FIND_WORKSPACE_DIR}")
RETIRE_SCRIPT = "sh -c " + shlex.quote(MARK_SCRIPT)
LOST_STATES = frozenset(
    {"stopping", "stopped", "archiving", "archived", "pausing", "paused", "error", "build_failed"}
)
"""States a member is never claimed from (it auto-stopped, or failed): it is deleted instead."""
REFRESH_SECONDS = 10.0
"""How often a pool looks for members claimed by other processes, or stopped."""
FILL_CONCURRENCY = 4
POOL_LABELS = (WARM_LABEL, POOL_LABEL)
"""What a claim takes off a member (it keeps the SDK's labels and ours)."""
STOP_WAIT_SECONDS = 60.0
"""How long a stopping pool waits for the creations in flight before deleting its members."""


def new_pool_id() -> str:
    """A pool id naming this host and process: `<host>-<pid>-<random>`."""
    host = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().lower()).strip("-")[:40]
    return f"{host or 'host'}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def member_labels(pool_id: str) -> dict[str, str]:
    return {OUR_LABEL: "true", WARM_LABEL: "true", POOL_LABEL: pool_id}


class PooledDaytonaBackend(DaytonaBackend):
    """The Daytona backend, giving a new dream a ready warm-pool sandbox when there is one."""

    async def create(self, workspace_id: str) -> DaytonaWorkspace:
        workspace = await claim_member(self, check_workspace_id(workspace_id))
        return workspace if workspace is not None else await super().create(workspace_id)


async def claim_member(backend: DaytonaBackend, workspace_id: str) -> DaytonaWorkspace | None:
    """A started member of any pool, claimed for the dream and labelled as its sandbox; None
    when no member is ready."""
    members = await backend.find_sandboxes({OUR_LABEL: "true", WARM_LABEL: "true"})
    random.shuffle(members)  # claimers at the same moment mostly try different members first
    for sandbox in members:
        if sandbox.state in LOST_STATES:
            await _discard(backend, sandbox, f"it is {sandbox.state}")
        elif sandbox.state == "started" and (path := await _take(backend, sandbox, workspace_id)):
            logger.info("dream %s claimed warm sandbox %s", workspace_id, sandbox.id)
            _wake_pools()
            return DaytonaWorkspace(workspace_id, sandbox, path)
    return None


async def _take(backend: DaytonaBackend, sandbox: AsyncSandbox, workspace_id: str) -> str | None:
    """Claim the member for the dream: its workspace directory, or None if it was taken first
    (or turned out unusable, and was deleted)."""
    try:
        response = await sandbox.process.exec(CLAIM_SCRIPT, timeout=30)
    except DaytonaError as error:  # stopped or deleted since it was listed
        await _discard(backend, sandbox, describe_error(error))
        return None
    if response.exit_code == TAKEN_EXIT_CODE:
        return None
    if response.exit_code != 0:
        await _discard(backend, sandbox, f"no writable workspace: {response.result[:200]}")
        return None
    kept = {key: value for key, value in sandbox.labels.items() if key not in POOL_LABELS}
    try:
        await sandbox.set_labels({**kept, DREAM_LABEL: workspace_id})
    except DaytonaError as error:
        await _discard(backend, sandbox, f"it could not be relabelled: {describe_error(error)}")
        return None
    return last_line(response.result)


async def _discard(backend: DaytonaBackend, sandbox: AsyncSandbox, why: str) -> None:
    logger.info("deleting warm sandbox %s: %s", sandbox.id, why)
    try:
        await backend.delete(sandbox, wait=False)
    except SandboxError as error:
        logger.warning("warm sandbox %s not deleted (it auto-deletes): %s", sandbox.id, error)


class WarmPool:
    """`size` started sandboxes of this process's, refilled in the background as dreams claim
    them (or they auto-stop), at most `concurrency` created at once."""

    def __init__(
        self,
        backend: DaytonaBackend,
        size: int,
        *,
        pool_id: str | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        concurrency: int = FILL_CONCURRENCY,
    ) -> None:
        self.backend = backend
        self.size = size
        self.id = pool_id or new_pool_id()
        self.refresh_seconds = refresh_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._creating: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start filling the pool in the background (call from the loop that will serve)."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._keep_filled(), name=f"warm pool {self.id}")
        self._task.add_done_callback(self._report_end)
        _running.add(self)
        logger.info("warm pool %s: keeping %d Daytona sandboxes ready", self.id, self.size)

    def wake(self) -> None:
        """Look at the pool now (a member was claimed); safe from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> list[str]:
        """Stop refilling, let creations in flight finish, and delete every member no dream
        claimed; their sandbox ids."""
        _running.discard(self)
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._creating:
            await asyncio.wait(self._creating, timeout=STOP_WAIT_SECONDS)
            for task in self._creating:
                task.cancel()
        deleted = await retire_members(self.backend, self.id)
        logger.info("warm pool %s: deleted %d unclaimed sandboxes", self.id, len(deleted))
        return deleted

    def _report_end(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("warm pool %s stopped refilling", self.id, exc_info=error)

    async def _keep_filled(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._refill()
            except SandboxError as error:
                logger.warning("warm pool %s not refilled, trying again: %s", self.id, error)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.refresh_seconds)

    async def _refill(self) -> None:
        members = await self.backend.find_sandboxes({OUR_LABEL: "true", POOL_LABEL: self.id})
        lost = [sandbox for sandbox in members if sandbox.state in LOST_STATES]
        for sandbox in lost:
            await _discard(self.backend, sandbox, f"it is {sandbox.state}")
        missing = self.size - (len(members) - len(lost))
        if missing <= 0:
            return
        tasks = [asyncio.create_task(self._add()) for _ in range(missing)]
        self._creating.update(tasks)
        for task in tasks:
            task.add_done_callback(self._creating.discard)
        await asyncio.wait(tasks)  # not cancelled when the pool stops: stop() waits for them

    async def _add(self) -> None:
        async with self._slots:
            try:
                sandbox = await self.backend.new_sandbox(member_labels(self.id))
            except SandboxError as error:
                logger.warning("warm pool %s: %s", self.id, error)
                return
        logger.info("warm pool %s: sandbox %s ready", self.id, sandbox.id)


_running: set[WarmPool] = set()


def _wake_pools() -> None:
    for pool in list(_running):
        pool.wake()


async def retire_members(backend: DaytonaBackend, pool_id: str) -> list[str]:
    """Delete the pool's members no dream claimed (each is claimed first, so a dream claiming
    it at that moment keeps it); their sandbox ids."""
    members = await backend.find_sandboxes({OUR_LABEL: "true", POOL_LABEL: pool_id})
    retired = await asyncio.gather(*(_retire(backend, sandbox) for sandbox in members))
    return [sandbox.id for sandbox, done in zip(members, retired, strict=True) if done]


async def _retire(backend: DaytonaBackend, sandbox: AsyncSandbox) -> bool:
    if sandbox.state == "started":
        try:
            response = await sandbox.process.exec(RETIRE_SCRIPT, timeout=30)
        except DaytonaError:
            response = None  # stopped or gone meanwhile: deleted below all the same
        if response is not None and response.exit_code == TAKEN_EXIT_CODE:
            return False
    try:
        await backend.delete(sandbox, wait=False)
    except SandboxError as error:
        logger.warning("warm sandbox %s not deleted (it auto-deletes): %s", sandbox.id, error)
        return False
    return True


async def list_members(backend: SandboxBackend) -> list[WorkspaceInfo]:
    """Warm-pool sandboxes no dream has claimed yet, of every pool ([] off Daytona)."""
    if not isinstance(backend, DaytonaBackend):
        return []
    members = await backend.find_sandboxes({OUR_LABEL: "true", WARM_LABEL: "true"})
    return [backend.info(sandbox) for sandbox in members]


async def delete_members(backend: SandboxBackend) -> list[str]:
    """Delete every warm-pool sandbox no dream has claimed, of every pool, a dead server's
    included; their sandbox ids."""
    if not isinstance(backend, DaytonaBackend):
        return []
    members = await backend.find_sandboxes({OUR_LABEL: "true", WARM_LABEL: "true"})
    for sandbox in members:
        await backend.delete(sandbox)
    return [sandbox.id for sandbox in members]
