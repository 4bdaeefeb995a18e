"""What the benchmarks ran on, printed beside every figure."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def describe() -> str:
    """CPU model, logical and usable CPUs, Python, SQLite and the kernel."""
    model = platform.processor() or platform.machine() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{model}; {os.cpu_count()} logical CPUs ({usable} usable); "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        f"{platform.system()} {platform.release()}"
    )


def pin_to_one_core() -> str:
    """Pin this process to one CPU (the figures are per core); say what was done."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"
