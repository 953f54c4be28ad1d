"""Terminal output shared by every command: the consoles, the one error printer, progress bars."""

from __future__ import annotations

from datetime import date, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from warehouse.errors import HeimdallError, UsageError

console = Console()
err_console = Console(stderr=True)


def print_error(error: HeimdallError) -> None:
    """The one way Heimdall reports an error to its user: a red ``error:`` line, no traceback."""
    err_console.print(f"[bold red]error:[/] {error}", markup=True, highlight=False, soft_wrap=True)


def parse_date(value: str, option: str) -> date:
    """A ``YYYY-MM-DD`` option value, or a usage error naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} must be a date like 2026-11-20, got {value!r}") from None


def parse_moment(value: str, option: str) -> datetime:
    """A date or ISO 8601 timestamp option value (UTC when no offset is given)."""
    from datetime import UTC

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} must be a date like 2026-11-01, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def progress() -> Progress:
    """A progress display for long work (documents loaded, items synced)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
