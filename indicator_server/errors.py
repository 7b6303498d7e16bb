"""The error hierarchy and the one JSON error shape.

Every error the server answers has the body ``{"error": {"code", "message", "details"}}`` where ``code`` is a
stable machine-readable string. Domain and market code raise these classes (they import nothing from Flask);
``register_error_handlers`` turns them, HTTP exceptions from Flask/werkzeug and argument validation errors from
flask-smorest into that shape.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of every error that becomes an HTTP answer."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        status: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidArgument(ApiError):
    status = 400
    code = "invalid_argument"


class UnknownExchange(ApiError):
    status = 400
    code = "unknown_exchange"


class UnknownSymbol(ApiError):
    status = 404
    code = "unknown_symbol"


class UnsupportedTimeframe(ApiError):
    status = 400
    code = "unsupported_timeframe"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class UpstreamError(ApiError):
    """A market data source failed. Subclasses say whether waiting may help."""

    status = 502
    code = "upstream_error"


class UpstreamUnavailable(UpstreamError):
    """The exchange is down, slow or rate-limiting us: temporary, worth retrying later."""

    status = 503
    code = "upstream_unavailable"

    def __init__(self, message: str, *, retry_after: float = 30.0, **kwargs: Any) -> None:
        details = dict(kwargs.pop("details", None) or {})
        details.setdefault("retry_after", round(retry_after, 3))
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Retry-After", str(max(1, int(round(retry_after)))))
        super().__init__(message, details=details, headers=headers, **kwargs)
        self.retry_after = retry_after


class UpstreamTimeout(UpstreamUnavailable):
    status = 504
    code = "upstream_timeout"


class UpstreamBadResponse(UpstreamError):
    """The exchange answered something we cannot read: not worth retrying as is."""

    status = 502
    code = "upstream_bad_response"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_argument",
    429: "rate_limited",
    500: "internal_error",
    502: "upstream_bad_response",
    503: "unavailable",
    504: "upstream_timeout",
}


def error_body(status: int, message: str, details: dict[str, Any] | None = None, code: str | None = None):
    return {
        "error": {
            "code": code or HTTP_CODES.get(status, "error"),
            "message": message,
            "details": details or {},
        }
    }
