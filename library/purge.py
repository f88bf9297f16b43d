"""Delete a stored dream's workspace or kept sandbox along with its record."""

from library.records import GraphRecord
from sandbox import SandboxGoneError, get_backend


async def purge_workspace(record: GraphRecord) -> bool:
    """Delete the dream's workspace (local folder or Daytona sandbox); False if already gone."""
    backend = get_backend(record["metadata"].get("sandbox") or "local")
    try:
        await backend.destroy(record["id"])
    except (SandboxGoneError, FileNotFoundError):
        return False
    return True
