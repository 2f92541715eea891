"""One frozen settings object, read from the environment and an optional `.env` file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_DATA_DIR = Path("var")
APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")
MIN_LINK_SECRET = 32


# A host (two labels or more) or, with a leading dot, every name under such a suffix.
_FILE_HOST = re.compile(r"^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$")


class SettingsError(ValueError):
    """The configuration is unusable; the message says which variable and why."""


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'marac.sqlite3').as_posix()}"


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with; safe local defaults throughout."""

    database_url: str = field(default_factory=lambda: _sqlite_url(DEFAULT_DATA_DIR))
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "SingleTenant"
    app_tenant_id: str = ""
    # SHARED_VIEW_EDITS (see `edits_shared_views`); None: decided by the mode.
    shared_view_edits: bool | None = None
    timezone: str = "Europe/London"
    host: str = "127.0.0.1"
    port: int = 3978
    data_dir: Path = DEFAULT_DATA_DIR
    log_level: str = "INFO"
    # Logs: "text" or "json" (one object a line); metrics and traces go over OTLP/HTTP to
    # this endpoint and/or to Azure Monitor; neither set: nothing is exported.
    log_format: str = "text"
    otel_endpoint: str = ""
    otel_service_name: str = "community-marac-bot"
    applicationinsights_connection_string: str = field(default="", repr=False)
    # Where tokens' signing keys are published; botbuilder's public-cloud default if None.
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    # The panel's meeting schedule (JSON); None means second Tuesday, 10:00, 2 hours.
    meeting_schedule_file: Path | None = None
    # The panels' risk matrices (JSON: one matrix, or a default and one per team); None
    # means the shipped example matrix.
    risk_matrix_file: Path | None = None
    # Who signs each panel's minutes off: coordinator, chair or both, or JSON
    # {"default": ..., "teams": {"<team id>": ...}} (bot.domain.minutes.sign_off_book).
    minutes_signoff: str = "coordinator"
    # Where people reach the bot from outside (for download links such as the .ics file).
    public_url: str = ""
    ics_signing_secret: str = field(default="", repr=False)
    # Secrets that sign download links, newest first: the first signs, all verify (rotation).
    link_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Microsoft Graph, for Teams online meetings (client credentials through msal).
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: str = field(default="", repr=False)
    graph_organizer_user_id: str = ""
    graph_authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com"
    graph_ca_bundle: str | None = None
    # The Teams app's id in its manifest (TEAMS_APP_ID, else APP_ID as `python -m bot
    # manifest` uses), to install the bot for members and into meeting chats through Graph;
    # its id in the organisation's app catalog when known (else looked up once).
    teams_app_id: str = ""
    teams_catalog_app_id: str = ""
    # Teams' limits on proactive messages (LIMIT/SECONDS, comma-separated; s/m/h allowed)
    teams_rate_per_conversation: str = "7/1,8/2,60/30,1800/1h"
    teams_rate_per_tenant: str = "50/1"
    outbox_concurrency: int = 16
    outbox_lease_seconds: int = 120
    # Reminders (days; 0 turns one off) and quiet hours in each panel's time zone.
    reminder_days_before_due: int = 3
    reminder_on_due_date: bool = True
    reminder_overdue_every_days: int = 3
    reminder_status_days_before_meeting: int = 5
    reminder_info_days_before_due: int = 2
    reminder_info_on_due_date: bool = True
    reminder_escalate_after_days: int = 14
    quiet_hours: str = "08:00-18:00"
    working_days: str = "Mon-Fri"
    reminders_every_seconds: int = 300
    # Personal data is anonymised this long after a case closes.
    retention_years: int = 6
    retention_interval_hours: int = 24
    # Periodic jobs (bot.kernel.jobs, once across instances): planning every panel's next
    # meetings, giving them Teams links (with Graph), pruning the ledger and the outbox.
    calendar_refresh_hours: int = 24
    graph_sync_minutes: int = 15
    housekeeping_interval_hours: int = 6
    # Who may make a team a panel (`setup`): the deployment's administrators, by Entra
    # object id. Empty: nobody can, so a council decides who before any panel exists.
    panel_admins: frozenset[str] = frozenset()
    # Delivered outbox rows (their card already emptied) and the activity ledger's keys are
    # deleted this many days later.
    outbox_keep_days: int = 30
    activity_ledger_keep_days: int = 7
    # How long a reply in a personal or group chat may take before Teams shows the bot
    # typing (bot.teams.typing), in milliseconds.
    typing_delay_ms: int = 1000
    # The hosts a file sent to the bot is fetched from (a leading dot: every name under it).
    file_hosts: tuple[str, ...] = (".sharepoint.com",)
    # The hosts a file is uploaded to when a member allows it (the approved minutes, into
    # their OneDrive for Business: SharePoint Online).
    upload_hosts: tuple[str, ...] = (".sharepoint.com",)
    # The erasure ledger: a JSON-lines file outside the database (ids only) that a restore
    # cannot take back; None (the dataclass default, for tests) keeps the table alone.
    erasure_ledger: Path | None = None

    @property
    def graph_configured(self) -> bool:
        """Graph is used only when every credential it needs is set."""
        return all(
            (
                self.graph_tenant_id,
                self.graph_client_id,
                self.graph_client_secret,
                self.graph_organizer_user_id,
            )
        )

    @property
    def download_secrets(self) -> tuple[str, ...]:
        """LINK_SECRETS, or else ICS_SIGNING_SECRET alone (so older deployments keep links)."""
        if self.link_secrets:
            return self.link_secrets
        return (self.ics_signing_secret,) if self.ics_signing_secret else ()

    @property
    def local_mode(self) -> bool:
        """No app id: the adapter accepts unauthenticated requests (Agents Playground only)."""
        return not self.app_id

    @property
    def edits_shared_views(self) -> bool:
        """Whether a click on a shared view edits the message for everyone (their Teams
        clients then refresh their own views: bot.kernel.views). SHARED_VIEW_EDITS; unset, on
        with an app id and off in local mode: the Agents Playground shows no user-specific
        views, so the edit would put the base over the clicker's own view."""
        if self.shared_view_edits is not None:
            return self.shared_view_edits
        return not self.local_mode

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """Read settings: the process environment wins over `.env`, which wins over defaults."""
        values: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str, default: str = "") -> str:
            return values.get(name, default).strip()

        data_dir = Path(get("DATA_DIR") or DEFAULT_DATA_DIR)
        try:
            port = int(get("PORT", "3978"))
        except ValueError as exc:
            raise SettingsError("PORT must be a whole number") from exc
        try:
            outbox_concurrency = int(get("OUTBOX_CONCURRENCY", "16"))
            outbox_lease_seconds = int(get("OUTBOX_LEASE_SECONDS", "120"))
        except ValueError as exc:
            raise SettingsError(
                "OUTBOX_CONCURRENCY and OUTBOX_LEASE_SECONDS must be whole numbers"
            ) from exc

        def number(name: str, default: int) -> int:
            try:
                value = int(get(name, str(default)))
            except ValueError as exc:
                raise SettingsError(f"{name} must be a whole number") from exc
            if value < 0:
                raise SettingsError(f"{name} cannot be negative")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = get(name).lower()
            if not raw:
                return default
            if raw in {"1", "true", "yes", "on"}:
                return True
            if raw in {"0", "false", "no", "off"}:
                return False
            raise SettingsError(f"{name} must be true or false")

        settings = cls(
            database_url=get("DATABASE_URL") or _sqlite_url(data_dir),
            app_id=get("APP_ID") or get("MicrosoftAppId"),
            app_password=get("APP_PASSWORD") or get("MicrosoftAppPassword"),
            app_type=get("APP_TYPE") or get("MicrosoftAppType") or "SingleTenant",
            app_tenant_id=get("APP_TENANTID") or get("MicrosoftAppTenantId"),
            shared_view_edits=flag("SHARED_VIEW_EDITS", True) if get("SHARED_VIEW_EDITS") else None,
            timezone=get("PANEL_TIMEZONE") or get("TIMEZONE") or "Europe/London",
            host=get("HOST") or "127.0.0.1",
            port=port,
            data_dir=data_dir,
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            log_format=(get("LOG_FORMAT") or "text").lower(),
            otel_endpoint=get("OTEL_EXPORTER_OTLP_ENDPOINT").rstrip("/"),
            otel_service_name=get("OTEL_SERVICE_NAME") or "community-marac-bot",
            applicationinsights_connection_string=get("APPLICATIONINSIGHTS_CONNECTION_STRING"),
            openid_metadata_url=get("BOT_OPENID_METADATA_URL") or None,
            token_issuer=get("BOT_TOKEN_ISSUER") or None,
            meeting_schedule_file=Path(get("MEETING_SCHEDULE_FILE"))
            if get("MEETING_SCHEDULE_FILE")
            else None,
            risk_matrix_file=Path(get("RISK_MATRIX_FILE")) if get("RISK_MATRIX_FILE") else None,
            minutes_signoff=get("MINUTES_SIGNOFF") or "coordinator",
            public_url=get("PUBLIC_URL").rstrip("/"),
            ics_signing_secret=get("ICS_SIGNING_SECRET"),
            link_secrets=tuple(s.strip() for s in get("LINK_SECRETS").split(",") if s.strip()),
            graph_tenant_id=get("GRAPH_TENANT_ID") or get("APP_TENANTID"),
            graph_client_id=get("GRAPH_CLIENT_ID") or get("APP_ID"),
            graph_client_secret=get("GRAPH_CLIENT_SECRET") or get("APP_PASSWORD"),
            graph_organizer_user_id=get("GRAPH_ORGANIZER_USER_ID"),
            graph_authority_host=get("GRAPH_AUTHORITY_HOST") or "https://login.microsoftonline.com",
            graph_url=get("GRAPH_URL") or "https://graph.microsoft.com",
            graph_ca_bundle=get("GRAPH_CA_BUNDLE") or None,
            teams_app_id=get("TEAMS_APP_ID") or get("APP_ID") or get("MicrosoftAppId"),
            teams_catalog_app_id=get("TEAMS_CATALOG_APP_ID"),
            teams_rate_per_conversation=get("TEAMS_RATE_PER_CONVERSATION")
            or "7/1,8/2,60/30,1800/1h",
            teams_rate_per_tenant=get("TEAMS_RATE_PER_TENANT") or "50/1",
            outbox_concurrency=outbox_concurrency,
            outbox_lease_seconds=outbox_lease_seconds,
            reminder_days_before_due=number("REMINDER_DAYS_BEFORE_DUE", 3),
            reminder_on_due_date=flag("REMINDER_ON_DUE_DATE", True),
            reminder_overdue_every_days=number("REMINDER_OVERDUE_EVERY_DAYS", 3),
            reminder_status_days_before_meeting=number("REMINDER_STATUS_DAYS_BEFORE_MEETING", 5),
            reminder_info_days_before_due=number("REMINDER_INFO_DAYS_BEFORE_DUE", 2),
            reminder_info_on_due_date=flag("REMINDER_INFO_ON_DUE_DATE", True),
            reminder_escalate_after_days=number("REMINDER_ESCALATE_AFTER_DAYS", 14),
            quiet_hours=get("QUIET_HOURS") or "08:00-18:00",
            working_days=get("WORKING_DAYS") or "Mon-Fri",
            reminders_every_seconds=number("REMINDERS_EVERY_SECONDS", 300) or 300,
            retention_years=number("RETENTION_YEARS", 6),
            retention_interval_hours=number("RETENTION_INTERVAL_HOURS", 24),
            calendar_refresh_hours=number("CALENDAR_REFRESH_HOURS", 24),
            graph_sync_minutes=number("GRAPH_SYNC_MINUTES", 15),
            housekeeping_interval_hours=number("HOUSEKEEPING_INTERVAL_HOURS", 6),
            panel_admins=frozenset(
                a.strip().lower() for a in get("PANEL_ADMINS").split(",") if a.strip()
            ),
            outbox_keep_days=number("OUTBOX_KEEP_DAYS", 30),
            activity_ledger_keep_days=number("ACTIVITY_LEDGER_KEEP_DAYS", 7),
            typing_delay_ms=number("TYPING_DELAY_MS", 1000),
            file_hosts=tuple(h.strip().lower() for h in get("FILE_HOSTS").split(","))
            if get("FILE_HOSTS")
            else (".sharepoint.com",),
            upload_hosts=tuple(h.strip().lower() for h in get("UPLOAD_HOSTS").split(","))
            if get("UPLOAD_HOSTS")
            else (".sharepoint.com",),
            erasure_ledger=Path(get("ERASURE_LEDGER") or data_dir / "erasures.jsonl"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse a configuration that cannot work, naming the variable to fix."""
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"PANEL_TIMEZONE '{self.timezone}' is not a known time zone"
            ) from exc
        if self.app_type not in APP_TYPES:
            raise SettingsError(f"APP_TYPE must be one of {', '.join(APP_TYPES)}")
        if self.app_id and self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise SettingsError("APP_TENANTID is required for a SingleTenant app")
        if self.app_id and self.app_type != "UserAssignedMSI" and not self.app_password:
            raise SettingsError("APP_PASSWORD is required when APP_ID is set")
        if self.log_format not in ("text", "json"):
            raise SettingsError("LOG_FORMAT must be text or json")
        if self.risk_matrix_file is not None:
            from bot.kernel.config import RiskMatrixError, load_risk_book

            try:
                load_risk_book(self.risk_matrix_file)
            except RiskMatrixError as exc:
                raise SettingsError(f"RISK_MATRIX_FILE: {exc.message}") from None
        from bot.domain.errors import InvalidInput
        from bot.domain.minutes import sign_off_book

        try:
            sign_off_book(self.minutes_signoff)
        except InvalidInput as exc:
            raise SettingsError(exc.message) from None
        if not 0 < self.port < 65536:
            raise SettingsError("PORT must be between 1 and 65535")
        from bot.teams.ratelimit import parse_windows  # plain asyncio, no botbuilder

        for name, text in (
            ("TEAMS_RATE_PER_CONVERSATION", self.teams_rate_per_conversation),
            ("TEAMS_RATE_PER_TENANT", self.teams_rate_per_tenant),
        ):
            try:
                parse_windows(text)
            except ValueError as exc:
                raise SettingsError(f"{name}: {exc}") from exc
        if self.graph_configured and not (self.teams_app_id or self.teams_catalog_app_id):
            raise SettingsError(
                "TEAMS_APP_ID (the id in the Teams app's manifest; APP_ID by default) is "
                "needed with Graph (GRAPH_*): the bot installs itself for members it cannot "
                "message yet and into each panel meeting's chat"
            )
        if self.outbox_concurrency < 1:
            raise SettingsError("OUTBOX_CONCURRENCY must be at least 1")
        if self.outbox_lease_seconds < 30:
            raise SettingsError("OUTBOX_LEASE_SECONDS must be at least 30")
        if not 1 <= self.retention_years <= 100:
            raise SettingsError("RETENTION_YEARS must be between 1 and 100")
        if any(len(secret) < MIN_LINK_SECRET for secret in self.link_secrets):
            raise SettingsError(
                f"LINK_SECRETS: each secret must be at least {MIN_LINK_SECRET} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if self.retention_interval_hours < 1:
            raise SettingsError("RETENTION_INTERVAL_HOURS must be at least 1")
        for name, every in (
            ("CALENDAR_REFRESH_HOURS", self.calendar_refresh_hours),
            ("GRAPH_SYNC_MINUTES", self.graph_sync_minutes),
            ("HOUSEKEEPING_INTERVAL_HOURS", self.housekeeping_interval_hours),
        ):
            if every < 1:
                raise SettingsError(f"{name} must be at least 1")
        if not 0 <= self.typing_delay_ms <= 60_000:
            raise SettingsError("TYPING_DELAY_MS must be between 0 and 60000 (a minute)")
        if self.outbox_keep_days < 1:
            raise SettingsError("OUTBOX_KEEP_DAYS must be at least 1")
        if self.activity_ledger_keep_days < 1:
            raise SettingsError("ACTIVITY_LEDGER_KEEP_DAYS must be at least 1")
        for name, hosts in (("FILE_HOSTS", self.file_hosts), ("UPLOAD_HOSTS", self.upload_hosts)):
            for host in hosts:
                if not _FILE_HOST.match(host):
                    raise SettingsError(
                        f"{name}: each entry is a host name (files.example.org) or a suffix of "
                        f"at least two labels with a leading dot (.sharepoint.com), not '{host}'"
                    )
        from bot.domain.errors import InvalidInput
        from bot.domain.reminders import parse_quiet_hours

        try:
            parse_quiet_hours(self.quiet_hours, self.working_days)
        except InvalidInput as exc:
            raise SettingsError(f"QUIET_HOURS / WORKING_DAYS: {exc.message}") from exc
