"""Errors of the use cases; the API maps each to one HTTP status."""

from __future__ import annotations

from forms.validate import FieldError


class ServiceError(Exception):
    """Base of errors a caller can act on."""


class NotFound(ServiceError):
    """No such thing, or not one the caller may see (the two look the same on purpose)."""


class Conflict(ServiceError):
    """The state changed under the caller: already completed, or another writer won."""


class LostRace(Conflict):
    """Another writer changed the same rows at the same moment (optimistic lock, deadlock,
    serialization failure); nothing was saved, and the same change may succeed if tried again."""


class RoutingLimit(Conflict):
    """The signals and messages a change threw would change or start too many instances in
    one transaction; nothing was saved, and the same change fails the same way."""


class MigrationRefused(Conflict):
    """An instance cannot move to the version asked for; `reasons` says why, one by one.
    Nothing was saved."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("the instance cannot move to this version: " + "; ".join(reasons))


class Forbidden(ServiceError):
    """The caller is known but may not do this."""


class InvalidInput(ServiceError):
    """The submitted data does not fit; `errors` says field by field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        # An error about the whole request has no field to name.
        super().__init__("; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors))


class Unstorable(ServiceError):
    """A value the request brought, or the model computed, does not fit what the database
    keeps (too long, out of range, a character it refuses); nothing was saved, and sending
    the same again fails the same way."""


class Unavailable(ServiceError):
    """The database is busy or unreachable; nothing was changed, and the same request may
    succeed after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ModelStopped(ServiceError):
    """The model's code was stopped in its worker process (past its wall-clock limit or its
    memory), or what it made is too large to keep: nothing of the change was saved.
    `instance_id` names the instance, left with its state as it was (None when the change was
    a start); `kind` is the kind of the incident it opens."""

    def __init__(self, message: str, instance_id: str | None, kind: str = "model-stopped") -> None:
        self.instance_id = instance_id
        self.kind = kind
        super().__init__(message)
