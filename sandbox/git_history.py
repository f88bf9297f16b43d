"""A dream's workspace as a git repository: a commit when it starts, per generation, at the end.

Git runs in the workspace through `Workspace.execute`, one short `sh -c` script per step, so a
local directory and a Daytona sandbox keep their history the same way (the SDK's git API has no
`init`). Each git call names its repository (`GIT_DIR=.git`, never a repository around the
workspace) and its whole configuration on its own command line: the caller's `GIT_*`
variables, user and system config, hooks and commit signing never reach it, so it works where
git was never set up. Internal files (all dot files: LangGraph's `.checkpoints/`, the `.lease`
files, staging files of atomic writes) stay out of the history.

A step run twice (a resumed dream redoing the node that committed it) leaves one commit: an
unchanged workspace is not committed again, a changed one amends the commit of the same name.
"""

import logging
import shlex
from collections.abc import Sequence

from sandbox.base import SandboxError, Workspace

logger = logging.getLogger(__name__)
COMMIT_TIMEOUT_SECONDS = 30
HISTORY_WARNING = "git history incomplete"
"""How the one warning about a workspace's git history starts (later failures add none)."""
AUTHOR = "CoDreamer"
AUTHOR_EMAIL = "codreamer@localhost"
GITIGNORE = """\
# CoDreamer's internals stay out of the dream's history; they all start with a dot:
# LangGraph's checkpoint store (.checkpoints/), the run's lease (.lease, .lease.lock,
# .lease.new) and the staging files of atomic writes (.<file>.<random>).
.*
!.gitignore
"""
PREAMBLE = f"""\
g() {{
  env -i PATH="$PATH" HOME="$HOME" GIT_DIR=.git GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \\
    git -c user.name={AUTHOR} -c user.email={AUTHOR_EMAIL} -c commit.gpgsign=false \\
    -c core.hooksPath=/dev/null -c init.defaultBranch=main -c gc.auto=0 \\
    -c maintenance.auto=false "$@"
}}
command -v git >/dev/null 2>&1 || {{ echo "git is not installed"; exit 127; }}
"""
START_SCRIPT = """\
[ -d .git ] || g init -q --template= || exit
[ -f .gitignore ] || printf '%s' "$IGNORE" > .gitignore || exit
"""
COMMIT_SCRIPT = """\
[ -d .git ] || { echo "the workspace has no repository (.git)"; exit 3; }
g add -A || exit
amend=""
if [ "$(g log -1 --format=%s 2>/dev/null)" = "$MESSAGE" ]; then
  g diff --cached --quiet HEAD && { echo unchanged; exit 0; }
  amend="--amend"
fi
if failure=$(g commit -q $amend -m "$MESSAGE" 2>&1); then echo committed; exit 0; fi
g diff --cached --quiet && { echo unchanged; exit 0; }
echo "$failure"; exit 1
"""
OUTCOMES = ("committed", "unchanged")


class GitHistoryError(SandboxError):
    """Git could not commit a step in the workspace; the dream's files themselves are intact."""


async def start_history(workspace: Workspace, message: str) -> bool:
    """Make the workspace a repository (once) with its `.gitignore`, and commit what it holds;
    True when a commit was made."""
    return await _run(workspace, START_SCRIPT + COMMIT_SCRIPT, message)


async def commit_step(workspace: Workspace, message: str) -> bool:
    """Commit every change as `message`; True when a commit was made (or amended), False when
    nothing changed. `GitHistoryError` when git is missing or fails."""
    return await _run(workspace, COMMIT_SCRIPT, message)


async def record_step(
    workspace: Workspace, message: str, warnings: Sequence[str], *, start: bool = False
) -> list[str]:
    """Commit the step (`start`: begin the history first); returns no warning, or the one
    saying the history is incomplete unless `warnings` (the dream's so far) already say so."""
    try:
        await (start_history if start else commit_step)(workspace, message)
    except (SandboxError, OSError) as error:  # the dream goes on: its files are all there
        if any(warning.startswith(HISTORY_WARNING) for warning in warnings):
            logger.info("dream %s: %s", workspace.id, error)
            return []
        warning = f"{HISTORY_WARNING}: {error}; the dream's files are complete"
        logger.warning("dream %s: %s", workspace.id, warning)
        return [warning]
    return []


async def _run(workspace: Workspace, body: str, message: str) -> bool:
    variables = f"MESSAGE={shlex.quote(message)} IGNORE={shlex.quote(GITIGNORE)}"
    script = "sh -c " + shlex.quote(f"{variables}\n{PREAMBLE}{body}")
    result = await workspace.execute(script, timeout=COMMIT_TIMEOUT_SECONDS)
    lines = result.output.strip().splitlines()
    if result.exit_code != 0 or not lines or lines[-1] not in OUTCOMES:
        raise GitHistoryError(
            f"git could not commit {message!r} in workspace {workspace.id} "
            f"(exit {result.exit_code}): {result.output.strip()[:200] or 'no output'}"
        )
    return lines[-1] == "committed"
