"""Options and arguments that several commands take, written once."""

from typing import Annotated

import typer

CustomerFilter = Annotated[
    str, typer.Option("--customer", help="Only dreams whose customer contains this (any case).")
]
ProductFilter = Annotated[
    str, typer.Option("--product", help="Only dreams whose product contains this (any case).")
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=100, help="How many (1-100).")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="How many to skip.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def checked_dream_id(value: str) -> str:
    """A dream id argument, or a usage error (exit 2) that says what a dream id looks like."""
    from sandbox.base import WorkspaceIdError, check_workspace_id

    try:
        return check_workspace_id(value)
    except WorkspaceIdError as error:
        raise typer.BadParameter(str(error)) from None


DreamIdArgument = Annotated[
    str, typer.Argument(callback=checked_dream_id, help="The dream's id (`dream: ...`).")
]
