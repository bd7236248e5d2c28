"""Where the local model runs: ``--device auto|cpu|cuda|mps`` (or ``MIGRATE_DEVICE``), and in which dtype."""

from __future__ import annotations

import os
from typing import Any

DEVICES = ("auto", "cpu", "cuda", "mps")


def requested_device(device: str | None = None) -> str:
    """The device asked for: the argument, else ``MIGRATE_DEVICE``, else "auto"."""
    choice = (device or os.environ.get("MIGRATE_DEVICE") or "auto").lower()
    if choice.split(":", 1)[0] not in DEVICES:
        raise ValueError(f"unknown device {choice!r}: expected one of {', '.join(DEVICES)}")
    return choice


def pick_device(device: str | None = None) -> str:
    """``auto`` is CUDA when present, then Apple MPS, then CPU; an explicit device must be available."""
    import torch

    choice = requested_device(device)
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    if choice == "mps" and not has_mps:
        raise ValueError("--device mps was asked for, but torch sees no Apple MPS device")
    return choice


def pick_dtype(device: str, config: Any) -> Any:
    """float32 on CPU; on a GPU the checkpoint's own 16-bit dtype, else bfloat16 (CUDA that has it) or float16."""
    import torch

    if device == "cpu":
        return torch.float32
    stored = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(stored, str):
        stored = getattr(torch, stored, None)
    if stored in (torch.float16, torch.bfloat16):
        return stored
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16
