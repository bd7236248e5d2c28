"""The jinja2 environment over templates/ (generated code, reports, docs)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


def templates_dir() -> Path:
    """Installed wheels carry templates as ``migrator/templates``; a source checkout has ``templates/``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("migrate's templates directory is missing from this installation")


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        # HTML templates escape by default; code and Markdown templates are emitted as written.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    )


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
