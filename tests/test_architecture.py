"""The rooms of docs/architecture.md import one way: a module may import only its own room and those below."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "migrator"

# room -> rooms it may import (besides itself). `templating` is the jinja2 helper every renderer shares.
ALLOWED = {
    "cli": {"output", "engine", "rules", "targets", "runtime", "templating", "package"},
    "output": {"engine", "rules", "targets", "templating", "package"},
    "engine": {"rules", "targets", "templating", "package"},
    "rules": {"targets", "templating", "package"},
    "targets": {"templating", "package"},
    "templating": {"package"},
    "runtime": {"targets", "package"},  # the provider registry is data: runtime reads base URLs from it
    "package": set(),
    "main": {"cli"},  # `python -m migrator`
}


def room_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "migrator":
        return "external"
    if len(parts) > 1 and parts[1] == "__main__":
        return "main"
    if len(parts) == 1 or parts[1] == "__init__":
        return "package"
    return parts[1]


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_go_one_way(path):
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    room = room_of(module)
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {room} imports {name} ({room_of(name)})"
        for line, name in imports_of(path)
        if room_of(name) not in ("external", room) and room_of(name) not in ALLOWED[room]
    ]
    assert wrong == []


def test_the_checker_sees_a_wrong_import(tmp_path):
    fake = tmp_path / "migrator" / "rules" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from migrator.engine.runner import analyse_text\nfrom ..output import text\nimport libcst\n")
    rooms = [room_of(name) for _, name in imports_of(fake, tmp_path)]
    assert rooms == ["engine", "output", "external"]
    assert not {"engine", "output"} <= ALLOWED["rules"]
