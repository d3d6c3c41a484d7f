"""The store's errors: every message is fit to show a Discord user as it is.

Both engines raise these and nothing else, so an adapter never needs to know which database
is behind the store. Operator-facing details (which database, what is wrong with it) travel
separately, in `StoreUnavailable.describe()`, and never carry a password.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises; the message is polite and user-facing."""

    default_message = "The knowledge base could not complete that request; please try again later."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class StoreBusy(StoreError):
    """The database stayed locked by another writer for longer than the busy timeout."""

    default_message = "The knowledge base is busy right now; please try again in a moment."


class StoreReadOnly(StoreError):
    """The database cannot be written (opened read-only, or the file/directory is read-only)."""

    default_message = (
        "The knowledge base is read-only at the moment, so changes cannot be saved. "
        "Answers still work; please ask the bot's operator to check its storage."
    )


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full: nothing more can be written."""

    default_message = (
        "The bot's storage is full, so that change could not be saved. "
        "Answers still work; please ask the bot's operator to free some disk space."
    )


class StoreUnavailable(StoreError):
    """The database could not be opened or reached; the bot answers from the curated files only.

    `message` is for users; `cause` (with `path`, the file or the redacted server address) is
    for the operator's log: it names the database and what is wrong with it."""

    default_message = (
        "The bot's database is unavailable right now, so server entries, curation and statistics "
        "cannot be used. Answers from the curated knowledge base still work; please ask the bot's "
        "operator to check its storage."
    )

    def __init__(self, path: object | None = None, cause: str = "unknown") -> None:
        self.path = path
        self.cause = cause
        super().__init__()

    def describe(self) -> str:
        """One line for the operator: which database, and why it cannot be used."""
        return f"the database {self.path} cannot be used: {self.cause}"


class ReadOnlyScope(StoreError):
    """A curation write aimed at the curated global base, which only the knowledge files change."""

    default_message = (
        "The curated knowledge base is read-only from Discord; "
        "it changes only through the knowledge files. Add a server entry instead."
    )


class EntryNotFound(StoreError):
    def __init__(self, entry_id: str, message: str | None = None) -> None:
        self.entry_id = entry_id
        super().__init__(message or f"There is no entry '{entry_id}' here.")


class EntryExists(StoreError):
    def __init__(self, entry_id: str, message: str | None = None) -> None:
        self.entry_id = entry_id
        super().__init__(message or f"An entry with the id '{entry_id}' already exists here.")


class VersionConflict(StoreError):
    """The entry changed since the caller read it (optimistic concurrency check failed)."""

    def __init__(self, entry_id: str, expected: int, actual: int) -> None:
        self.entry_id = entry_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Someone else changed entry '{entry_id}' while you were editing it "
            f"(you had version {expected}, it is now version {actual}). "
            "Please reload it and try again."
        )


class LimitExceeded(StoreError):
    def __init__(self, message: str, *, limit: int | None = None) -> None:
        self.limit = limit
        super().__init__(message)


class QuestionNotFound(StoreError):
    def __init__(self, question_id: int) -> None:
        self.question_id = question_id
        super().__init__("That answer is too old or unknown, so feedback on it cannot be recorded.")
