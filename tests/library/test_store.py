"""Opening the library's store: processes that start together, and databases that are not there."""

import subprocess
import sys

import pytest

from library import LibraryUnavailableError
from library.store import database_key, open_store

OPEN_STORE = (
    "import sys; from library.store import open_store, close_store; "
    "close_store(open_store(sys.argv[1]))"
)


def test_processes_opening_a_new_library_together_all_succeed(library_database: str) -> None:
    url = database_key(library_database)
    starting = [
        subprocess.Popen([sys.executable, "-c", OPEN_STORE, url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]

    errors = [process.communicate(timeout=90)[1] for process in starting]

    assert [process.returncode for process in starting] == [0, 0, 0], errors


def test_an_unreachable_postgresql_is_named_at_once_without_its_password() -> None:
    with pytest.raises(LibraryUnavailableError) as caught:
        open_store("postgresql://someone:hunter22@127.0.0.1:1/none")

    assert "cannot be reached" in str(caught.value)
    assert "hunter22" not in str(caught.value)
