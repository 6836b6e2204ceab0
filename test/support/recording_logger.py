"""A logger that keeps its lines, for runs whose warnings are reported afterwards."""

from __future__ import annotations


class RecordingLogger:
    """A ``LoggerLike`` keeping every line as (level, message), in order."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, msg: str) -> None:
        """Keep an info line."""
        self.lines.append(("info", msg))

    def warning(self, msg: str) -> None:
        """Keep a warning line."""
        self.lines.append(("warning", msg))

    def error(self, msg: str) -> None:
        """Keep an error line."""
        self.lines.append(("error", msg))

    def warnings(self) -> list[str]:
        """The warning lines, in order."""
        return [msg for level, msg in self.lines if level == "warning"]


__all__ = ["RecordingLogger"]
