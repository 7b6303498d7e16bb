"""Who may post alerts: the shared secret (constant-time), the source-address allowlist, the client address.

TradingView cannot send custom headers, so the secret travels in the body or, for users who prefer it, in the
URL (``/webhook/tradingview/<token>``, where a token is one of the WEBHOOK_SECRET values). Posts come from four
fixed addresses (DOMAIN.md section 8). X-Forwarded-For is trusted only for the last TRUSTED_PROXIES hops.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Sequence

from ..errors import ApiError, Forbidden, NotFound, Unauthorized

TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")


def secret_matches(candidate: str | None, secrets: Iterable[str]) -> bool:
    """Constant-time comparison against every configured secret (no early exit reveals which one matched)."""
    if not isinstance(candidate, str):
        return False
    given = candidate.encode("utf-8", "surrogatepass")
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(given, secret.encode("utf-8"))
    return found


def check_secret(body_secret: object, token: str | None, secrets: Sequence[str]) -> None:
    if not secrets:
        raise Forbidden("webhooks are disabled: set WEBHOOK_SECRET", code="webhooks_disabled")
    if token is not None and not secret_matches(token, secrets):
        raise NotFound("unknown webhook token", code="unknown_token")
    if body_secret is None:
        if token is None:
            raise Unauthorized("the alert carries no secret", code="missing_secret")
        return
    if not secret_matches(body_secret if isinstance(body_secret, str) else None, secrets):
        raise Unauthorized("wrong secret", code="wrong_secret")


class AddressPolicy:
    """The client address behind TRUSTED_PROXIES proxies, and whether it may post."""

    def __init__(self, allowed: Sequence[str], trusted_proxies: int) -> None:
        expanded: list[str] = []
        for item in allowed:
            expanded.extend(TRADINGVIEW_IPS if item.lower() == "tradingview" else [item])
        self.networks = [ipaddress.ip_network(item, strict=False) for item in expanded]
        self.trusted_proxies = trusted_proxies

    def client_address(self, remote_addr: str | None, forwarded_for: str | None) -> str:
        if self.trusted_proxies > 0 and forwarded_for:
            hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
            if len(hops) >= self.trusted_proxies:
                return hops[-self.trusted_proxies]
        return remote_addr or "unknown"

    def check(self, address: str) -> None:
        if not self.networks:
            return
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise Forbidden("source address not allowed", code="forbidden_address") from None
        if not any(ip in network for network in self.networks):
            raise Forbidden("source address not allowed", code="forbidden_address")


def is_rejection(exc: Exception) -> bool:
    return isinstance(exc, ApiError) and 400 <= exc.status < 500
