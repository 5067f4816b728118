"""How `--help` reads: value names instead of Python types, defaults and environment variables.

Typer shows every parameter's Python type (`<bool>` on a flag, `<list[str]>` on a repeatable
option); these classes show nothing for a flag and a value name (`URL`, `DIR`, `SERVICE/NAME`, or
the option's name in capitals) for anything that takes a value. `FaultlineTyper` makes every
command and group of the CLI use them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


def described(text: str, *, env: str | None = None, default: str | None = None) -> str:
    """Help text ending in `[env: NAME; default: VALUE]`, for options whose default comes from
    the settings (so Typer cannot show it) and that an environment variable also sets."""
    notes = [note for note in (env and f"env: {env}", default and f"default: {default}") if note]
    # `\[` is rich's markup escape of the bracket (what `rich.markup.escape` writes for a tag
    # that starts with a letter); spelt out, so options need not import rich to be declared.
    return f"{text} \\[{'; '.join(notes)}]" if notes else text


def _no_type(ctx: Any) -> None:  # called as display_type_rich(ctx=...)
    return None


def _value_names(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperArgument):
            # An argument is shown by its name already; its type column would say `<path>`.
            param.display_type_rich = _no_type  # type: ignore[method-assign]
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif param.name:
            param.metavar = param.name.upper()
    return params


class PlainHelpCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _value_names(super().get_params(ctx))


class PlainHelpGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _value_names(super().get_params(ctx))


class FaultlineTyper(typer.Typer):
    """A Typer whose groups and commands use the plain help above."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("cls", PlainHelpGroup)
        super().__init__(**options)

    def command(
        self, name: str | None = None, **options: Any
    ) -> Callable[[CommandFunction], CommandFunction]:
        options.setdefault("cls", PlainHelpCommand)
        register: Callable[[CommandFunction], CommandFunction] = super().command(name, **options)
        return register
