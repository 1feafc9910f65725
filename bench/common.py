"""Helpers shared by the benchmark scripts: Django set-up, timing, peak memory,
result rows and a plain-text table."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROC_STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def setup_django(settings: str = "finops_portal.settings") -> None:
    """Set Django up once (a no-op when the caller already did)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    django.setup()


def _status_kb(field: str) -> int | None:
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """The process's resident memory now, in MB (None off Linux)."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024


@dataclass
class Measure:
    """What ``measure`` saw: wall-clock seconds, the peak resident memory of the
    process while the call ran (MB) and how far above the start that peak was."""

    seconds: float
    peak_mb: float | None
    peak_increase_mb: float | None
    result: object = None


class _Sampler(threading.Thread):
    """Reads VmRSS every few milliseconds; keeps the maximum."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.interval, self.peak, self._done = (
            interval,
            rss_mb() or 0.0,
            threading.Event(),
        )

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mb() or 0.0)
            time.sleep(self.interval)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, rss_mb() or 0.0)


def _reset_high_water_mark() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def measure(call: Callable[[], object]) -> Measure:
    """Run ``call`` once; time it and record the peak resident memory meanwhile.

    Uses the kernel's high-water mark (reset first through /proc/self/clear_refs)
    and, as a cross-check, a thread sampling VmRSS every 5 ms; the larger wins.
    """
    start_mb = rss_mb()
    exact = _reset_high_water_mark()
    sampler = _Sampler()
    sampler.start()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    if exact:
        hwm = _status_kb("VmHWM")
        if hwm is not None:
            peak = max(peak, hwm / 1024)
    if start_mb is None:
        return Measure(seconds, None, None, result)
    return Measure(seconds, peak, peak - start_mb, result)


def row(name: str, value, unit: str, baseline=None, note: str = "") -> dict:
    """One result row; ``ratio`` = value / baseline when there is a baseline."""
    ratio = value / baseline if baseline and value is not None else None
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "note": note,
    }


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned plain-text table."""
    columns = ["name", "value", "unit", "baseline", "ratio", "note"]
    cells = [columns] + [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def progress(done: int, total: int, label: str = "", stream=None) -> None:
    """A one-line progress bar redrawn in place with a carriage return."""
    stream = stream or sys.stderr
    width = 30
    filled = int(width * done / total) if total else width
    percent = 100 * done / total if total else 100
    stream.write(
        f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% {done}/{total}"
    )
    if done >= total:
        stream.write("\n")
    stream.flush()
