"""The seed's DaytonaService API, in Python names, over any sandbox backend."""

from typing import Any

from sandbox.base import ExecResult, SandboxBackend, Workspace, WorkspaceInfo


class WorkspaceService:
    """Workspaces keyed by dream id: create, run code and commands, files, destroy."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend
        self._workspaces: dict[str, Workspace] = {}

    async def create_workspace(self, dream_id: str) -> Workspace:
        workspace = await self.backend.create(dream_id)
        self._workspaces[dream_id] = workspace
        return workspace

    async def execute_code(self, dream_id: str, code: str, language: str = "python") -> ExecResult:
        if language != "python":
            raise ValueError(f"language {language!r} is not supported; use 'python'")
        return await self._get(dream_id).run_code(code)

    async def execute_command(self, dream_id: str, command: str) -> str:
        """Run a shell command; its output, or `RuntimeError` with the output if it failed."""
        result = await self._get(dream_id).execute(command)
        if result.exit_code != 0:
            raise RuntimeError(f"command exited {result.exit_code}: {result.output}")
        return result.output

    async def write_file(self, dream_id: str, file_path: str, content: str) -> None:
        await self._get(dream_id).write_file(file_path, content)

    async def read_file(self, dream_id: str, file_path: str) -> str:
        return (await self._get(dream_id).read_file(file_path)).decode()

    async def destroy_workspace(self, dream_id: str) -> None:
        self._workspaces.pop(dream_id, None)
        await self.backend.destroy(dream_id)

    async def destroy_all(self) -> list[str]:
        """Destroy every workspace of ours the backend sees, crashed runs' included, then every
        warm-pool sandbox no dream has claimed (named by its sandbox id)."""
        destroyed = []
        for info in await self.backend.list():
            await self.backend.destroy(info.id)
            destroyed.append(info.id)
        self._workspaces.clear()
        if self.backend.name == "daytona":
            from sandbox.pool import delete_members  # the Daytona SDK loads only for Daytona

            destroyed += await delete_members(self.backend)
        return destroyed

    async def list_all(self) -> list[WorkspaceInfo]:
        """Every workspace of ours the backend sees, then the warm-pool sandboxes no dream has
        claimed yet (their `pool` set)."""
        workspaces = await self.backend.list()
        if self.backend.name != "daytona":
            return workspaces
        from sandbox.pool import list_members

        return [*workspaces, *await list_members(self.backend)]

    def get_workspace_info(self, dream_id: str) -> dict[str, Any] | None:
        workspace = self._workspaces.get(dream_id)
        if workspace is None:
            return None
        return {"id": workspace.sandbox_id or workspace.id, "exists": True}

    def get_active_workspaces(self) -> list[str]:
        return list(self._workspaces)

    def _get(self, dream_id: str) -> Workspace:
        try:
            return self._workspaces[dream_id]
        except KeyError:
            raise KeyError(
                f"no workspace for dream {dream_id!r}; call create_workspace first"
            ) from None
