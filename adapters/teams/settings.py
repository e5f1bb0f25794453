"""The Teams adapter's settings, read by bot/config.py from the environment."""

from __future__ import annotations

from dataclasses import dataclass

OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
LOGIN_URL = "https://login.microsoftonline.com"
APP_TYPES = ("MultiTenant", "SingleTenant")


@dataclass(frozen=True)
class TeamsSettings:
    """Bot registration credentials. No `app_id` means unauthenticated local development:
    any request is accepted, and replies go out without a token (Bot Framework Emulator).

    `openid_metadata_url` and `login_url` are the identity endpoints: inbound tokens are
    checked against the first's signing keys, outbound tokens come from the second.
    """

    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""
    app_type: str = "MultiTenant"
    openid_metadata_url: str = OPENID_METADATA_URL
    login_url: str = LOGIN_URL
    # Sending: the first in-place retry waits about this long (doubling, with jitter), and
    # sends to one conversation are spaced this far apart (Teams allows ~7 a second).
    retry_base_seconds: float = 1.0
    pace_seconds: float = 1 / 7
    # Tenants allowed besides `tenant_id` (app.yaml `teams: {tenants: […]}` and
    # MENTORBOT_TEAMS_TENANTS): activities from any other tenant are refused.
    tenants: tuple[str, ...] = ()

    @property
    def allowed_tenants(self) -> frozenset[str]:
        return frozenset(t.lower() for t in (self.tenant_id, *self.tenants) if t)

    def admits(self, tenant: str) -> bool:
        """Whether an activity from this tenant may reach the bot. Without an app id (the
        Bot Framework Emulator, local development only) there is no tenant to check."""
        if not self.authenticated:
            return True
        return bool(tenant) and tenant.lower() in self.allowed_tenants

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    @property
    def token_tenant(self) -> str:
        """Whose authority issues the bot's outbound tokens."""
        if self.app_type == "SingleTenant" and self.tenant_id:
            return self.tenant_id
        return "botframework.com"

    def problems(self) -> list[str]:
        """What is wrong with these settings, one sentence each."""
        found: list[str] = []
        if not self.app_id:
            return found
        if self.app_type not in APP_TYPES:
            found.append(
                f"MICROSOFT_APP_TYPE must be {' or '.join(APP_TYPES)} (got {self.app_type!r}); "
                "managed identities are not supported by this build."
            )
        if not self.app_password:
            found.append("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not.")
        if self.app_type == "SingleTenant" and not self.tenant_id:
            found.append("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID.")
        elif not self.allowed_tenants:
            found.append(
                "Teams needs the tenants it serves: MICROSOFT_APP_TENANT_ID, "
                "`teams: {tenants: [...]}` in app.yaml or MENTORBOT_TEAMS_TENANTS; "
                "activities from any other tenant are refused."
            )
        for name, url in (
            ("MICROSOFT_OPENID_METADATA_URL", self.openid_metadata_url),
            ("MICROSOFT_LOGIN_URL", self.login_url),
        ):
            if not url.startswith(("https://", "http://")):
                found.append(f"{name} must be an http(s) URL (got {url!r}).")
        return found
