"""Which model to load: production ids stay as written; ``MIGRATE_BACKEND=local`` swaps in GPT-2.

Code migrated to an instruction model calls ``tokenizer.apply_chat_template(...)`` and feeds chat messages
to pipelines; GPT-2 has no chat template, so under ``MIGRATE_BACKEND=local`` :func:`resolve_model` hands
out a directory that holds the local model's files (symlinked, nothing is copied) plus the runtime's
fallback chat template in ``chat_template.jinja``. ``from_pretrained`` on that directory loads GPT-2 with a
chat template, and the migrated program runs unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

DEFAULT_LOCAL_MODEL = "gpt2"

_TEMPLATE_FILE = "chat_template.jinja"


def local_model_id() -> str:
    """The model the local backend loads: ``MIGRATE_LOCAL_MODEL`` (an id or a path), else "gpt2"."""
    return os.environ.get("MIGRATE_LOCAL_MODEL") or DEFAULT_LOCAL_MODEL


def resolve_model(model_id: str) -> str:
    """``model_id`` unchanged in production; the local test model when ``MIGRATE_BACKEND=local``.

    Migrated transformers code loads ``from_pretrained(resolve_model("meta-llama/Llama-3.1-8B-Instruct"))``:
    production gets Llama, a test run with ``MIGRATE_BACKEND=local`` gets GPT-2 on a laptop, with a chat
    template when the local model has none (see :func:`with_chat_template`).
    """
    if os.environ.get("MIGRATE_BACKEND", "").lower() == "local":
        return with_chat_template(local_model_id())
    return model_id


def has_chat_template(directory: Path) -> bool:
    """Whether the tokenizer files in ``directory`` define a chat template."""
    if (directory / _TEMPLATE_FILE).is_file() or (directory / "chat_template.json").is_file():
        return True
    config = directory / "tokenizer_config.json"
    try:
        return bool(json.loads(config.read_text(encoding="utf-8")).get("chat_template"))
    except (OSError, ValueError, AttributeError):
        return False


def _model_directory(model: str) -> Path | None:
    """The local directory of ``model``: the path itself, or its snapshot in the Hugging Face cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - transformers always brings it
        return None
    try:
        return Path(snapshot_download(repo_id=model, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached (or not a repo id): from_pretrained will say why
        return None


def cache_root() -> Path:
    """Where chat-template copies of local models live: ``MIGRATE_CACHE_DIR``, else the user cache."""
    configured = os.environ.get("MIGRATE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "migrate" / "local-models"


def with_chat_template(model: str, template: str | None = None) -> str:
    """``model`` when it has a chat template (or cannot be found locally), else a directory with its files
    ``template`` (default: the backend's fallback template, which renders "role: content" lines).

    The directory is keyed by the source, its files' sizes and modification times and the template, so a
    rebuilt model gets a fresh one; it is created once (in a temporary directory, then renamed), so
    concurrent test processes are safe.
    """
    if template is None:
        from migrator.runtime.backend import FALLBACK_CHAT_TEMPLATE

        template = FALLBACK_CHAT_TEMPLATE
    source = _model_directory(model)
    if source is None or has_chat_template(source):
        return model
    files = sorted(p for p in source.iterdir() if p.is_file() and p.name != _TEMPLATE_FILE)
    key = hashlib.sha256(template.encode())
    key.update(str(source).encode())
    for path in files:
        stat = path.stat()
        key.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    target = cache_root() / f"{source.name}-chat-{key.hexdigest()[:16]}"
    if target.is_dir():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    for path in files:
        (staging / path.name).symlink_to(path.resolve())
    (staging / _TEMPLATE_FILE).write_text(template, encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another process made it first
        for item in staging.iterdir():
            item.unlink()
        staging.rmdir()
    return str(target)
