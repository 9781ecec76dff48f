"""The raw history of tests/test_levels.py and the truth computed from it.

Eight days of request counters, one sample a minute, with uneven traffic; and, from the
raw counts alone, the error ratio over any window: as requests counted (bad over all,
traffic-weighted) and as the generated rules define their windows (the 5m rates of bad
and all requests, each computed as Prometheus 2.42 computes `rate`, summed over the window
or, past a day, their 30-minute sums summed)."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

MINUTE = 60
HOUR = 3600
DAY = 86400
DAYS = 8  # covers the 7-day period and the 3-day window with a day to spare
FUTURE = 10 * MINUTE  # raw samples past "now": live 5m rates see a full window
RATE_RANGE_MS = 300_000
SUM_RANGE_MS = 1_800_000


def load(series: str, day: int, hour: float) -> tuple[float, float]:
    """(requests a minute, error ratio) of a series at an hour of a day of the history
    (day 7 is today; "now" is 14:00 of it). Busy days and quiet nights; errors mostly at
    night, more of them for checkout than for search, and a bad morning today. Errors come
    in bursts, the first 10 minutes of every half hour: 30-minute sums that did not tile
    time (a gap, an overlap) would weigh them wrongly."""
    if 8 <= hour < 20:
        rpm, error = 600.0, 0.002 if day == 7 and hour < 12 else 0.0003
    else:
        rpm, error = 30.0, 0.02 if series == "checkout" else 0.008
    burst = round(hour * 60) % 30 < 10
    return rpm, error * 3 if burst else 0.0


def prometheus_rate(values: list[float], start: int, at_ms: int) -> float:
    """`rate(x[5m])` at `at_ms` of a counter sampled every minute from `start` (s), as
    Prometheus 2.42 computes it: the samples in [at - 5m, at], both ends included, the
    increase extrapolated towards the range's edges but not past the counter's zero."""
    range_start = at_ms - RATE_RANGE_MS
    first = max(0, -(-(range_start - start * 1000) // 60_000))
    last = min(len(values) - 1, (at_ms - start * 1000) // 60_000)
    assert last > first, "a recorded rate has at least two samples"
    t_first, t_last = start * 1000 + first * 60_000, start * 1000 + last * 60_000
    increase = values[last] - values[first]
    sampled = (t_last - t_first) / 1000
    average = sampled / (last - first)
    to_start, to_end = (t_first - range_start) / 1000, (at_ms - t_last) / 1000
    if increase > 0 and values[first] >= 0:
        to_start = min(to_start, sampled * (values[first] / increase))
    threshold = average * 1.1
    interval = sampled + (to_start if to_start < threshold else average / 2)
    interval += to_end if to_end < threshold else average / 2
    return increase * (interval / sampled) / (RATE_RANGE_MS / 1000)


@dataclass
class History:
    """Requests a minute (index i: between the samples of minute i-1 and minute i) and
    the counters' samples, as backfilled."""

    start: int  # the first sample's time (s); "now" is DAYS days later
    bad: dict[str, list[float]]
    total: dict[str, list[float]]
    bad_counter: dict[str, list[float]]
    good_counter: dict[str, list[float]]

    @property
    def now(self) -> int:
        return self.start + DAYS * DAY

    def ratio(self, series: str, end: int, window: int) -> float:
        """Bad over all requests in (end - window, end] (s), clipped to the history."""
        last = (end - self.start) // MINUTE
        first = max(1, last - window // MINUTE + 1)
        return sum(self.bad[series][first : last + 1]) / sum(self.total[series][first : last + 1])

    def rates(self, series: str, at_ms: int) -> tuple[float, float]:
        """The 5m rates of bad and of all requests recorded at `at_ms`."""
        bad = prometheus_rate(self.bad_counter[series], self.start, at_ms)
        return bad, prometheus_rate(self.good_counter[series], self.start, at_ms) + bad

    def summed(self, series: str, rates: list[int], start_ms: int, end_ms: int) -> tuple[float, float]:
        """sum_over_time of both 5m rates over [start, end] (Prometheus 2 includes both
        ends), given when the rates were recorded (ms)."""
        bad = total = 0.0
        for at in rates[bisect.bisect_left(rates, start_ms) : bisect.bisect_right(rates, end_ms)]:
            b, t = self.rates(series, at)
            bad, total = bad + b, total + t
        return bad, total

    def rule_ratio(self, series: str, rates: list[int], sums: list[int], end_ms: int, window: int) -> float:
        """A window's error ratio as the generated rules compute it at `end_ms`, given when
        the 5m rates and the 30m sums were recorded: the 5m rates themselves; up to a day,
        the 5m rates summed over the window; longer, their 30m sums summed over it."""
        if window * 1000 == RATE_RANGE_MS:
            bad, total = self.rates(series, end_ms)
        elif window <= DAY:
            bad, total = self.summed(series, rates, end_ms - window * 1000, end_ms)
        else:
            bad = total = 0.0
            for at in sums[bisect.bisect_left(sums, end_ms - window * 1000) : bisect.bisect_right(sums, end_ms)]:
                b, t = self.summed(series, rates, at - SUM_RANGE_MS, at)
                bad, total = bad + b, total + t
        return bad / total

    def openmetrics(self) -> str:
        lines = ["# TYPE shop_requests_total gauge"]  # a gauge: OpenMetrics counters want _total
        for series in sorted(self.bad):
            for code, values in (("200", self.good_counter[series]), ("500", self.bad_counter[series])):
                lines += [
                    f'shop_requests_total{{slo="{series}",code="{code}"}} {value!r} {self.start + i * MINUTE}'
                    for i, value in enumerate(values)
                ]
        return "\n".join(lines) + "\n# EOF\n"


def make_history(now: int) -> History:
    """DAYS days of both series up to `now` (s), and FUTURE past it."""
    start = now - DAYS * DAY
    day0 = now - 7 * DAY - 14 * HOUR  # midnight of day 0
    minutes = (DAYS * DAY + FUTURE) // MINUTE + 1
    history = History(start, {}, {}, {}, {})
    for series in ("checkout", "search"):
        bad, total = [0.0], [0.0]
        for i in range(1, minutes):
            day, second = divmod(start + (i - 1) * MINUTE - day0, DAY)  # the minute's start
            rpm, error = load(series, day, second / HOUR)
            total.append(rpm)
            bad.append(rpm * error)
        history.bad[series], history.total[series] = bad, total
        history.bad_counter[series] = list(itertools.accumulate(bad))
        history.good_counter[series] = list(itertools.accumulate(t - b for t, b in zip(total, bad, strict=True)))
    return history
