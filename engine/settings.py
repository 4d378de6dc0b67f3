"""Runtime settings, read from `PANJEREH_*` environment variables.

`get_settings()` is cached so every layer sees one object; tests clear the cache
(`get_settings.cache_clear()`) after changing the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development below
SANDBOX_SMS_KEY = "sandbox-sms-key"  # the simulated gateway's key; refused outside development


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
        default_factory=lambda: {"sms_api_key": SecretStr(SANDBOX_SMS_KEY)},
        description="PANJEREH_SECRETS__NAME=value; the default SMS key is the simulated gateway's")
    sandbox: bool = Field(True, description="serve the simulated agencies under /sandbox (embedded demo)")
    public_url: str = ""
    message_ttl_seconds: int = Field(
        3600, ge=1, le=30 * 24 * 3600,
        description="how long a message nobody waits for is kept for an instance that waits later")

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("PANJEREH_SECRET_KEY must be set outside development")
        if self.environment != "development" and any(
                v.get_secret_value() == SANDBOX_SMS_KEY for v in self.secrets.values()):
            raise ValueError("PANJEREH_SECRETS__SMS_API_KEY must be the real gateway's key outside development")
        return self

    @property
    def base_url(self) -> str:
        """Where this server is reached; the embedded simulated agencies live under it."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def connector_config(self, connector_id: str) -> dict[str, str]:
        """A connector's settings; without any, it talks to its simulated agency under /sandbox."""
        configured = {k.lower(): v for k, v in self.connectors.get(connector_id.upper(),
                                                                   self.connectors.get(connector_id, {})).items()}
        return {"base_url": f"{self.base_url}/sandbox/{connector_id.replace('_', '-')}", **configured}

    def connector_secrets(self, connector_id: str) -> dict[str, str]:
        """The secrets one connector may read: those named after it (`sms_api_key` for `sms`),
        so a plugin never sees another agency's credentials."""
        prefix = f"{connector_id.lower()}_"
        return {name.lower(): value.get_secret_value() for name, value in self.secrets.items()
                if name.lower().startswith(prefix)}

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
