"""One dream, one runner: a lease kept in the dream's own workspace.

The lease is a file, `.lease`, holding its holder and when it expires by the workspace's clock.
It is taken, renewed and dropped by one short shell script run in the workspace under `flock`,
so two runners on different machines (one Daytona sandbox, or one shared directory) cannot both
hold it. A runner renews it every third of its lifetime; one that died holds it at most
`LEASE_SECONDS`, and not at all when it ran on this machine (its process is seen to be gone).
"""

import asyncio
import logging
import os
import shlex
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sandbox.base import SandboxError, SandboxGoneError, Workspace

logger = logging.getLogger(__name__)
LEASE_SECONDS = 60
LEASE_FILE = ".lease"
TAKE_SCRIPT = """\
if command -v flock >/dev/null 2>&1; then exec 9>>.lease.lock && flock -w 10 9 || exit 3; fi
now=$(date +%s); holder=""; expires=0
[ -f .lease ] && read -r holder expires < .lease
if [ -n "$holder" ] && [ "$holder" != "$ME" ] && [ "$holder" != "$DEAD" ] \
  && [ "$expires" -gt "$now" ]; then
  echo "held $holder $((expires - now))"; exit 0
fi
printf '%s %s\\n' "$ME" "$((now + TTL))" > .lease.new && mv .lease.new .lease && echo taken
"""
DROP_SCRIPT = """\
if command -v flock >/dev/null 2>&1; then exec 9>>.lease.lock && flock -w 10 9 || exit 3; fi
[ -f .lease ] && read -r holder expires < .lease && [ "$holder" = "$ME" ] && rm -f .lease
exit 0
"""


class DreamAlreadyRunningError(RuntimeError):
    """Another runner holds the dream's lease; wait for it, or resume once it has stopped."""


@dataclass(frozen=True)
class LeaseRefusal:
    """Who holds the lease, and for how many more seconds unless they renew it."""

    holder: str
    seconds_left: int


def new_holder() -> str:
    """A name for this runner: host, process and a random part (no spaces)."""
    host = "".join(c if c.isalnum() or c in ".-" else "-" for c in socket.gethostname())
    return f"{host or 'host'}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_here(holder: str) -> bool:
    """Whether `holder` was a process of this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != new_holder().partition(":")[0] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def take_lease(
    workspace: Workspace, holder: str, seconds: int = LEASE_SECONDS, *, dead: str = ""
) -> LeaseRefusal | None:
    """Take or renew the lease for `holder` (or from `dead`, a holder known to be gone);
    None when taken, else who holds it."""
    script = _script(TAKE_SCRIPT, holder, seconds, dead)
    result = await workspace.execute(script, timeout=30)
    words = result.output.split()
    if result.exit_code != 0 or not words or words[0] not in ("taken", "held"):
        raise SandboxError(
            f"workspace {workspace.id}: the dream's lease could not be taken "
            f"(exit {result.exit_code}): {result.output.strip()[:200]}"
        )
    if words[0] == "taken":
        return None
    return LeaseRefusal(words[1], int(words[2]))


async def drop_lease(workspace: Workspace, holder: str) -> None:
    """Give the lease up if `holder` has it; a workspace that is gone has none to give up."""
    try:
        await workspace.execute(_script(DROP_SCRIPT, holder, 0, ""), timeout=30)
    except SandboxGoneError:
        return


@asynccontextmanager
async def held_lease(workspace: Workspace, seconds: int = LEASE_SECONDS) -> AsyncIterator[None]:
    """Hold the dream's lease while the block runs, renewing it in the background.

    Raises `DreamAlreadyRunningError` when another runner holds it.
    """
    holder = new_holder()
    refusal = await take_lease(workspace, holder, seconds)
    if refusal is not None and is_dead_here(refusal.holder):
        refusal = await take_lease(workspace, holder, seconds, dead=refusal.holder)
    if refusal is not None:
        raise DreamAlreadyRunningError(
            f"dream {workspace.id} is already running ({refusal.holder}); wait for it to "
            f"finish, or resume it once that runner has stopped (its lease ends within "
            f"{refusal.seconds_left} s if it died)"
        )
    renewal = asyncio.create_task(_keep_renewing(workspace, holder, seconds))
    try:
        yield
    finally:
        renewal.cancel()
        await asyncio.shield(_drop_quietly(workspace, holder))


async def _keep_renewing(workspace: Workspace, holder: str, seconds: int) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            refusal = await take_lease(workspace, holder, seconds)
        except SandboxGoneError:
            return  # the dream released its workspace at its end
        except SandboxError as error:
            logger.warning("dream %s: lease not renewed, will try again: %s", workspace.id, error)
            continue
        if refusal is not None:
            logger.error(
                "dream %s: lost its lease to %s (this runner was silent for over %d s)",
                workspace.id,
                refusal.holder,
                seconds,
            )
            return


async def _drop_quietly(workspace: Workspace, holder: str) -> None:
    try:
        await drop_lease(workspace, holder)
    except SandboxError as error:
        logger.warning(
            "dream %s: lease not dropped (it expires by itself): %s", workspace.id, error
        )


def _script(body: str, holder: str, seconds: int, dead: str) -> str:
    """`body` as one `sh -c` command, whatever shell (if any) the backend runs commands with."""
    variables = f"ME={shlex.quote(holder)} DEAD={shlex.quote(dead)} TTL={int(seconds)}"
    return "sh -c " + shlex.quote(f"{variables}\n{body}")
