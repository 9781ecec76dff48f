"""The Prometheus API client against a real Prometheus on 127.0.0.1 (and a port nobody serves)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from slogen import promapi
from tests.harness import backfill, free_port, prometheus

pytestmark = pytest.mark.e2e


def test_query_range_joins_chunks_and_reports_errors(tmp_path: Path) -> None:
    # 4 hours of one counter a minute; a range query at 1s steps needs 14,401 points, more
    # than Prometheus serves at once: it is cut in two, and the joined points are each second once.
    start = (int(time.time()) - 5 * 3600) // 60 * 60
    lines = ["# TYPE c counter"] + [f"c_total 1 {start + 60 * i}" for i in range(241)] + ["# EOF"]
    data = tmp_path / "data"
    backfill("\n".join(lines) + "\n", data, tmp_path)
    with prometheus(tmp_path, data_dir=data) as server:
        client = promapi.Client(server.url)
        series = client.query_range("c_total", start, start + 4 * 3600, 1)
        assert len(series) == 1
        times = [t for t, _ in series[0].points]
        assert times == sorted(set(times)) and len(times) == 4 * 3600 + 1
        assert client.query("vector(2)")[0].value == 2.0
        assert client.query("scalar(vector(3))") == [promapi.Sample({}, 3.0)]
        with pytest.raises(promapi.QueryError, match="parse error"):
            client.query("sum(")
    with pytest.raises(promapi.Unreachable, match="cannot reach"):
        promapi.Client(f"http://127.0.0.1:{free_port()}").query("up")


def test_url_is_checked() -> None:
    with pytest.raises(ValueError, match="http"):
        promapi.Client("localhost:9090")
