"""Read board files from `dashboards/*.yaml` (the I/O edge; the model is `app.slo.boards`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.slo.boards import Board, check_selects, parse_board
from app.slo.definitions import SLODefinition
from app.slo.problems import Problem
from app.sources.yamlfiles import read_yaml_text

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedBoards:
    boards: list[Board]
    problems: list[Problem]


def load_boards(
    directory: Path, definitions: tuple[SLODefinition, ...] | None = None
) -> LoadedBoards:
    """Every board in `directory`, sorted by name, and every problem found on the way.

    With `definitions`, a board that selects none of them is a problem too.
    """
    if not directory.is_dir():
        return LoadedBoards([], [])
    boards: list[Board] = []
    problems: list[Problem] = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        text, found = read_yaml_text(path)
        problems.extend(found)
        if text is None:
            continue
        board, found = parse_board(text, str(path), path.stem)
        problems.extend(found)
        if board is None:
            continue
        if definitions is not None:
            problems.extend(check_selects(board, text, definitions))
        boards.append(board)
    return LoadedBoards(boards, sorted(problems))
