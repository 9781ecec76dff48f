"""A small client of Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`), for the
commands that read what the rules recorded (`slogen gate`, `slogen backtest`).

Standard library only. Every failure is one of two exceptions a command turns into its
exit code and a sentence: `Unreachable` (no answer, not Prometheus, an HTTP error) and
`QueryError` (Prometheus answered with an error, e.g. a bad expression or a limit).
Range queries are cut into chunks under Prometheus' limit of 11,000 points per series
(Prometheus docs, HTTP API, "Range queries"; the server refuses more with a 400)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 11_000


class Unreachable(Exception):
    """Prometheus did not answer, or what answered is not Prometheus' API."""


class QueryError(Exception):
    """Prometheus answered a query with an error."""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]


def check_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError with a sentence when it is not http(s)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"the Prometheus URL must be http(s)://host[:port][/path], got {url!r}")
    return url.rstrip("/")


class Client:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = check_url(url)
        self.timeout = timeout

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """An instant vector (a scalar comes back as one sample without labels)."""
        params = {"query": expr} | ({"time": _fmt(at)} if at is not None else {})
        data = self._get("/api/v1/query", params)
        kind, result = data.get("resultType"), data.get("result") or []
        if kind == "scalar":
            return [Sample({}, float(result[1]))]
        if kind != "vector":
            raise QueryError(f"{expr}: expected an instant vector, got {kind}")
        return [Sample(dict(r["metric"]), float(r["value"][1])) for r in result]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """Every series over [start, end] at `step` seconds, in chunks of at most MAX_POINTS
        points; points of one series across chunks are joined in time order."""
        if step <= 0 or end < start:
            raise ValueError("a range query needs step > 0 and end >= start")
        merged: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        chunk = step * (MAX_POINTS - 1)
        begin = start
        while begin <= end:
            stop = min(end, begin + chunk)
            data = self._get(
                "/api/v1/query_range", {"query": expr, "start": _fmt(begin), "end": _fmt(stop), "step": _fmt(step)}
            )
            if data.get("resultType") != "matrix":
                raise QueryError(f"{expr}: expected a range vector, got {data.get('resultType')}")
            for r in data["result"]:
                key = tuple(sorted(r["metric"].items()))
                merged.setdefault(key, []).extend((float(t), float(v)) for t, v in r["values"])
            begin = stop + step
        return [Series(dict(key), points) for key, points in sorted(merged.items())]

    def series(self, selectors: list[str], start: float, end: float) -> list[dict[str, str]]:
        """The label sets of the series matching any selector with samples in [start, end]
        (`/api/v1/series`: the index only, cheap even over weeks)."""
        params = [("match[]", s) for s in selectors] + [("start", _fmt(start)), ("end", _fmt(end))]
        url = f"{self.url}/api/v1/series?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            raise QueryError(f"{', '.join(selectors)}: HTTP {error.code} from /api/v1/series") from None
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            raise Unreachable(f"{self.url}: cannot reach Prometheus ({getattr(error, 'reason', error)})") from None
        except ValueError:
            raise Unreachable(f"{self.url}/api/v1/series did not answer JSON: is this Prometheus?") from None
        if not isinstance(body, dict) or body.get("status") != "success" or not isinstance(body.get("data"), list):
            raise Unreachable(f"{self.url}/api/v1/series did not answer as Prometheus' API does")
        return [dict(labels) for labels in body["data"]]

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            # Prometheus answers bad queries with 400/422 and a JSON error: that is the query's fault.
            body = _json_or_none(error)
            if body is None or body.get("status") != "error":
                raise Unreachable(f"{self.url}: HTTP {error.code} from {path}: is this Prometheus?") from None
            raise QueryError(f"{params.get('query', '')}: {body.get('error', 'error')}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(f"{self.url}: cannot reach Prometheus ({reason})") from None
        except ValueError:
            raise Unreachable(f"{self.url}{path} did not answer JSON: is this Prometheus?") from None
        if not isinstance(body, dict) or body.get("status") != "success" or not isinstance(body.get("data"), dict):
            raise Unreachable(f"{self.url}{path} did not answer as Prometheus' API does")
        data: dict[str, Any] = body["data"]
        return data


def _json_or_none(error: urllib.error.HTTPError) -> dict[str, Any] | None:
    try:
        body = json.load(error)
    except (ValueError, OSError):
        return None
    return body if isinstance(body, dict) else None


def _fmt(t: float) -> str:
    # Seconds with millisecond precision, as Prometheus' API reads them; never "nan"/"inf".
    if not math.isfinite(t):
        raise ValueError(f"not a finite time or duration: {t}")
    return f"{t:.3f}"
