"""What dashboards add for SLOs with `by`: a variable per label, panels filtered by it
and legends that name the value, and an overview with one row per value. An SLO without
`by` gets exactly what it got before (these return the plain forms)."""

from __future__ import annotations

from .. import conventions as c
from .. import model as m
from ..promql import Matcher, Selector
from . import queries as q
from .grafana import Query, Variable


def group_labels(slos: tuple[m.SLO, ...] | list[m.SLO]) -> list[str]:
    """Every `by` label of these SLOs, once each, in the order the specs give them."""
    return list(dict.fromkeys(label for slo in slos for label in slo.by))


def variables(service: m.Service) -> tuple[Variable, ...]:
    """One variable per `by` label, its values read from the service's recorded 5m error
    ratios (every SLI kind records them)."""
    source = Selector(c.error_ratio(c.BASE_WINDOW_MS)).render((Matcher(c.LABEL_SERVICE, "=", service.name),))
    return tuple(Variable(label, source) for label in group_labels(service.slos))


def group_filter(slo: m.SLO) -> tuple[Matcher, ...]:
    """`route=~"$route"`: Grafana writes a multi-value selection as an escaped regex, and
    "All" as `.*`. (A spec's own label values can never hold a variable: refused.)"""
    return tuple(Matcher(label, "=~", f"${label}") for label in slo.by)


def recorded(name: str, slo: m.SLO) -> str:
    """A recorded series of the SLO, filtered by the dashboard's variables when grouped.
    Not for the objective and budget: they have no group labels."""
    if not slo.by:
        return q.recorded(name, slo)
    own = (Matcher(c.LABEL_SERVICE, "=", slo.service), Matcher(c.LABEL_SLO, "=", slo.id))
    return Selector(name).render((*own, *group_filter(slo)))


def legend(slo: m.SLO, text: str) -> str:
    """`{{route}} SLI over 5m`: one line per value of a grouped SLO."""
    if not slo.by:
        return text
    names = " ".join("{{" + label + "}}" for label in slo.by)
    return f"{names} {text}" if text else names


def overview_queries(slos: list[m.SLO], columns: tuple[tuple[str, str, str], ...]) -> list[Query] | None:
    """The overview table's queries with one row per value of every grouped SLO, or None
    when no SLO is grouped (the plain queries then stay as they were). The rows are those
    of the budget remaining: the objective, which has no group labels, is joined onto
    each of them; ungrouped SLOs keep one row (their group labels are empty)."""
    extra = group_labels(slos)
    if not extra:
        return None
    by = ", ".join([c.LABEL_SERVICE, c.LABEL_SLO, *extra])
    rows = f"group by ({by}) ({c.PERIOD_BUDGET_REMAINING})"
    per_slo = f"on ({c.LABEL_SERVICE}, {c.LABEL_SLO}) group_right"
    queries = []
    for _, name, _ in columns:
        expr = f"{name} * {per_slo} {rows}" if name in (c.OBJECTIVE, c.ERROR_BUDGET) else f"sum by ({by}) ({name})"
        queries.append(Query(expr, instant=True, table=True))
    firing = f'count by ({by}) (ALERTS{{alertstate="firing"}}) and on ({by}) {rows}'
    queries.append(Query(f"({firing}) or on ({by}) (0 * {rows})", instant=True, table=True))
    return queries
