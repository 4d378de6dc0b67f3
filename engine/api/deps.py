"""Typed dependencies: the runtime, transactions, and the caller with a role check.

A route reads through `ReadSessionDep`, a read-only transaction that is closed before the
response goes out (a write in it fails loudly). A route changes things only through
`WriterDep`: `with write() as session:` commits when the block ends, inside the route, so
the route answers after the commit, and a commit that fails becomes an error answer. A route
that changes instances hands its work to `write.rehearsed(work)` instead, which runs the
instances' model code outside the transaction and returns once the work has committed
(`engine.services.rehearsal`). Either way the route holds the transaction only to hand it to
services (`engine.services.transaction`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.security.principals import Principal, Role
from engine.security.tokens import resolve
from engine.services.rehearsal import run_rehearsed
from engine.services.runtime import Runtime
from engine.services.transaction import Transaction

PUBLIC = "public"
# Where the route class keeps the caller it authenticated, for `get_principal`.
AUTHENTICATED = "principal"
BEARER = HTTPBearer(auto_error=False, description="A token from `panjereh token create`")
Result = TypeVar("Result")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def read_session(runtime: RuntimeDep) -> Iterator[Transaction]:
    """A read-only transaction for one request; it ends when the route returns."""
    with runtime.reading() as session:
        yield session


# scope="function": closed when the route returns, before the response is sent, so the
# connection goes back to the pool at once and a failure is still answered as an error.
ReadSessionDep = Annotated[Transaction, Depends(read_session, scope="function")]


class Writer:
    """Opens the unit of work a route changes things in; see the module docstring."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def __call__(self) -> AbstractContextManager[Transaction]:
        return self._runtime.unit_of_work()

    def rehearsed(self, work: Callable[[Transaction], Result]) -> Result:
        """Run `work`, which changes instances, and commit it; it may run more than once, each
        time in a new transaction, so it may have no effect outside the one it is given."""
        return run_rehearsed(self._runtime, work)


def get_writer(runtime: RuntimeDep) -> Writer:
    return Writer(runtime)


WriterDep = Annotated[Writer, Depends(get_writer)]


def authenticate(runtime: Runtime, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller a bearer token names.

    Raises:
        HTTPException: 401, no token or one that is not valid.
    """
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    admin = runtime.settings.admin_token.get_secret_value() if runtime.settings.admin_token else None
    with runtime.reading() as session:
        principal = resolve(session, credentials.credentials, admin)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the bearer token is not valid",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def get_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    # The route class authenticates before it reads a body (see engine.api.routing); the
    # caller it found is not looked up twice.
    known = getattr(request.state, AUTHENTICATED, None)
    return known if isinstance(known, Principal) else authenticate(runtime, credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class RoleGuard:
    """Lets a request through only for the listed roles (deny by default)."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = roles

    def __call__(self, principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in self.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role '{principal.role.value}' may not do this")
        return principal


def allow(*roles: Role | str) -> dict[str, Any]:
    """Route keyword arguments declaring who may call it; every route must use this.

    The roles are also written into the OpenAPI (`x-roles`), which the access test walks.
    """
    names = [r.value if isinstance(r, Role) else r for r in roles]
    extra = {"openapi_extra": {"x-roles": names}}
    if names == [PUBLIC]:
        return extra
    guard = RoleGuard(tuple(Role(n) for n in names))
    return {**extra, "dependencies": [Depends(guard)]}


WORKERS = (Role.ADMIN, Role.ANALYST, Role.STAFF, Role.CITIZEN)
"""Everyone who works cases: each sees what `engine.services.access` lets them see."""
READERS = (*WORKERS, Role.AUDITOR)
"""Everyone who may read cases; auditors read every case and change none."""
