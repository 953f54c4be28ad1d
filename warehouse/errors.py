"""The one base class of the errors Heimdall reports to its users.

Every error a user can cause or fix (bad settings, an unreachable database, a failed load, a failed dbt
build, a connector outage, a refused decision) derives from :class:`HeimdallError`. The CLI prints these
with one error printer, without a traceback; anything else is a bug and keeps its traceback (never with
local variables, which could hold credentials).
"""

from __future__ import annotations


class HeimdallError(Exception):
    """An error with a message written for the user; its ``exit_code`` is the CLI's exit status."""

    exit_code: int = 1


class SettingsError(HeimdallError):
    """A setting (environment variable or .env entry) has a value Heimdall cannot use."""


class UsageError(HeimdallError):
    """A command-line value the user typed cannot be used (for example a malformed date)."""

    exit_code = 2
