"""A small client of Prometheus' HTTP query API, with errors a person can act on."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class PrometheusError(Exception):
    """Prometheus could not be asked, or did not answer as its API does."""


def query(base_url: str, promql: str, at: float, timeout: float = 30) -> list[dict[str, Any]]:
    """An instant query at time `at`; returns the `result` list (vector or matrix)."""
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = " ".join(exc.read()[:2000].decode("utf-8", "replace").split())[:160]
        hint = " (is it the Prometheus base URL?)" if exc.code == 404 else ""
        raise PrometheusError(f"Prometheus at {base_url} answered HTTP {exc.code}{hint}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PrometheusError(f"cannot reach Prometheus at {base_url}: {reason}") from None
    try:
        payload = json.loads(body)
    except ValueError:
        raise PrometheusError(
            f"{base_url} did not answer with Prometheus' JSON API (got {body[:80]!r}); is it the Prometheus base URL?"
        ) from None
    if not isinstance(payload, dict) or payload.get("status") != "success" or "data" not in payload:
        error = payload.get("error") if isinstance(payload, dict) else None
        raise PrometheusError(f"Prometheus at {base_url} refused the query {promql!r}: {error or 'unexpected answer'}")
    result = payload["data"].get("result")
    if not isinstance(result, list):
        raise PrometheusError(f"Prometheus at {base_url} answered without a result list")
    return result
