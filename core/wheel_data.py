"""Files that installed wheels carry (a model, a script), found through their metadata."""

import importlib.metadata
from pathlib import Path


class WheelDataMissingError(RuntimeError):
    """The wheel is not installed, or holds no such file."""


def wheel_file(distribution: str, suffix: str, install: str) -> Path:
    """The installed file of `distribution` whose path ends with `suffix`.

    `install` is the command that installs it, for the error message.
    """
    try:
        files = importlib.metadata.distribution(distribution).files or ()
    except importlib.metadata.PackageNotFoundError:
        raise WheelDataMissingError(f"{distribution} is not installed: run `{install}`") from None
    for file in files:
        if str(file).endswith(suffix):
            return Path(str(file.locate()))
    raise WheelDataMissingError(f"{distribution} holds no {suffix}; reinstall it with `{install}`")
