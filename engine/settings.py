"""Runtime settings, read from `PANJEREH_*` environment variables.

`get_settings()` is cached so every layer sees one object; tests clear the cache
(`get_settings.cache_clear()`) after changing the environment.
"""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development below
SANDBOX_SMS_KEY = "sandbox-sms-key"  # the simulated gateway's key; refused outside development
SANDBOX_PAYMENT_KEY = "sandbox-payment-key"  # the simulated payment gateway's; refused outside development
SANDBOX_MAIL_KEY = "sandbox-mail-key"  # the simulated e-mail relay's; refused outside development
SANDBOX_KEYS = {"sms_api_key": SANDBOX_SMS_KEY, "payment_api_key": SANDBOX_PAYMENT_KEY,
                "mail_api_key": SANDBOX_MAIL_KEY}
# Where a payment gateway sends the citizen's browser back (engine/web/payments.py answers there).
PAYMENT_CALLBACK_PATH = "/payments/callback"
# Connector settings that name this server itself, by connector id: defaulted from its public URL in
# every environment, since they send a citizen back here and name no other agency's address.
OWN_ADDRESSES: dict[str, dict[str, str]] = {"payment": {"callback_url": PAYMENT_CALLBACK_PATH}}


class Settings(BaseSettings):
    """Every knob the operator can turn; defaults give the embedded mode."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_", env_nested_delimiter="__", extra="ignore")

    environment: str = Field("development", description="development or production")
    var_dir: Path = Path("var")
    database_url: str = ""
    processes_dir: Path = Path("processes")
    deploy_processes_on_start: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: SecretStr | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    max_upload_bytes: int = 5 * 1024 * 1024
    max_xml_depth: int = 256
    max_files_per_deployment: int = 50
    script_cpu_seconds: float = 1.0
    max_data_bytes: int = 1_000_000
    max_data_depth: int = Field(
        32, ge=1, le=200,
        description="how deep objects and arrays may nest inside data; {\"a\": {\"b\": 1}} is 2 levels")
    max_steps_per_change: int = Field(
        10_000, ge=10, le=10_000_000,
        description="automatic steps (scripts, gateways, events...) one change of an instance may run before "
                    "the instance fails as a runaway, and the most instances one multi-instance activity may "
                    "create; about 3,300 rounds of a three-task loop")
    max_change_seconds: float = Field(
        30.0, gt=0, le=3600,
        description="how long one change of an instance may run its automatic steps before the instance fails "
                    "as a runaway (each script also has its own CPU limit)")
    max_state_bytes: int = Field(
        16_000_000, ge=10_000, le=1_000_000_000,
        description="how large an instance's stored state (its workflow, with the data of each task it ran) may "
                    "grow; a change that would leave it larger fails the instance with an incident and keeps the "
                    "state it had (a loop or a timer cycle that never ends grows it with every round)")
    model_workers: int = Field(
        default_factory=lambda: max(os.cpu_count() or 1, 1), ge=0, le=256,
        description="worker processes that run model code (scripts, conditions, decisions, mappings) with an "
                    "address-space limit and a wall-clock kill; default the number of cores; 0 runs model code "
                    "in the serving process, without that protection")
    model_memory_mb: int = Field(
        512, ge=128, le=65536, description="the address space of each model worker process, in MB")
    model_wall_seconds: float = Field(
        40.0, gt=0, le=3600,
        description="how long one change may run in a model worker before the worker is killed and the change "
                    "fails, leaving the instance as it was (longer than PANJEREH_MAX_CHANGE_SECONDS, which "
                    "fails a runaway between two steps first)")
    server_threads: int = Field(
        40, ge=1, le=1000,
        description="requests handled at once; the database pool is sized from it, so a request never waits "
                    "for a connection that another request's thread is not using")
    database_timeout_seconds: float = Field(
        10.0, gt=0, le=600,
        description="how long a request waits for the database (a lock, a pooled connection, a new "
                    "connection) before it is answered 503 with Retry-After")
    broker_url: str = Field("", description="Redis or RabbitMQ URL; empty runs connector jobs inline")
    connector_timeout_seconds: float = 10.0
    connectors_allow: list[str] | None = None
    connectors_deny: list[str] = Field(default_factory=list)
    connectors: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="per connector id, e.g. PANJEREH_CONNECTORS__CIVIL_REGISTRY__BASE_URL")
    secrets: dict[str, SecretStr] = Field(
        default_factory=lambda: {name: SecretStr(key) for name, key in SANDBOX_KEYS.items()},
        description="PANJEREH_SECRETS__NAME=value; the default SMS and payment keys are the simulated gateways'")
    sandbox: bool | None = Field(
        None, description="serve the simulated agencies under /sandbox and use them as the default addresses of "
                          "the connectors they simulate; on by default in development, refused elsewhere")
    public_url: str = ""
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="addresses or networks of the reverse proxies whose X-Forwarded-For is believed; "
                    "a JSON list or comma-separated, e.g. 10.0.0.5,10.1.0.0/16")
    calendar_weekend: str = Field(
        "friday", description="days government offices are closed every week, comma-separated English day "
                              "names; Friday nationwide, \"thursday,friday\" where the province closes on Thursday")
    calendar_closing_hour: int = Field(
        14, ge=1, le=23, description="the hour (Tehran time) offices close: a request after it counts from the "
                                     "next working day")
    calendar_holidays_file: Path | None = Field(
        None, description="TOML file of official-calendar corrections per Jalali year (dates added as holidays "
                          "or restored as working days), for years the published calendar differs from the "
                          "holidays library")
    message_ttl_seconds: int = Field(
        3600, ge=1, le=30 * 24 * 3600,
        description="how long a message nobody waits for is kept for an instance that waits later")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: Any) -> Any:
        # Operators write "10.0.0.5, 10.0.0.6" as often as a JSON list; both are taken.
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [p for p in text.replace(",", " ").split() if p]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as err:
                raise ValueError(f"PANJEREH_TRUSTED_PROXIES: '{entry}' is not an IP address or network") from err
        return [entry.strip() for entry in value]

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("PANJEREH_SECRET_KEY must be set outside development")
        sandbox_keys = {value: name for name, value in SANDBOX_KEYS.items()}
        for value in self.secrets.values():
            if self.environment != "development" and value.get_secret_value() in sandbox_keys:
                name = sandbox_keys[value.get_secret_value()].upper()
                raise ValueError(f"PANJEREH_SECRETS__{name} must be the real gateway's key outside development")
        if self.environment != "development" and self.sandbox:
            # Synthetic people answering sign-in checks and lookups in a live service would
            # be a business answer nobody gave.
            raise ValueError("PANJEREH_SANDBOX serves simulated agencies with synthetic data; it can be on only "
                             "when PANJEREH_ENVIRONMENT is development")
        return self

    @property
    def sandbox_enabled(self) -> bool:
        """Whether the simulated agencies are served (and are the default addresses): development only."""
        return self.environment == "development" and self.sandbox is not False

    @property
    def base_url(self) -> str:
        """Where this server is reached: `public_url`, else the address it serves on.

        A wildcard bind address (``0.0.0.0``, ``::``) is no address to call, so the loopback
        address of the same family stands in: the server calls its own embedded agencies.
        """
        if self.public_url:
            return self.public_url.rstrip("/")
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(  # noqa: S104 - mapped away
            self.host.strip(), self.host.strip())
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def connector_config(self, connector_id: str) -> dict[str, str]:
        """A connector's settings (`PANJEREH_CONNECTORS__<ID>__<NAME>`), names in lower case.

        In development, a connector the sandbox simulates talks to it when no address is
        set. Nowhere else is an agency's address made up: a connector without one is not
        called. Settings that name this server itself (`OWN_ADDRESSES`) default to its
        public URL.
        """
        configured = {name.lower(): value for key, section in self.connectors.items()
                      if key.lower() == connector_id.lower() for name, value in section.items()}
        for name, path in OWN_ADDRESSES.get(connector_id.lower(), {}).items():
            configured.setdefault(name, f"{self.base_url}{path}")
        if self.sandbox_enabled and not configured.get("base_url"):
            # Imported here: the sandbox package loads its web app, which only development needs.
            from connectors.simulators.settings import simulated_address

            simulated = simulated_address(f"{self.base_url}/sandbox", connector_id)
            if simulated:
                configured["base_url"] = simulated
        return configured

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under `var_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'panjereh.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return Settings()
