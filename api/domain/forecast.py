"""Daily demand forecasts: additive Holt-Winters with a weekly season, or the mean of the
days seen when the history is too short.

Demand is the units customers ordered on a day (back-ordered ones included), every day from
the first day with an order (in the last ``MAX_HISTORY_DAYS``) to yesterday, zero days
filled. Today is never part of the history: its orders are not all in yet.

Holt-Winters is the ETS(A,A,A) model in its error-correction form (Hyndman, Koehler, Ord and
Snyder, *Forecasting with Exponential Smoothing*, 2008, ch. 3 and table 6.1), season ``m=7``:

    forecast  y^_t = l + b + s[t mod 7]
    error     e_t  = y_t - y^_t
    level     l    = l + b + alpha * e_t
    trend     b    = b + beta * e_t          0 < beta  < alpha
    season    s[t mod 7] += gamma * e_t      0 < gamma < 1 - alpha

The states start from the first two weeks (their means give the level and the trend, the
detrended days the season); alpha, beta and gamma minimise the sum of squared one-day errors
(a grid, then Nelder-Mead inside the usual region). The h-day-ahead forecast error has the
variance ``sigma^2 * (1 + sum_{j<h} (alpha + beta*j + gamma*[7 divides j])^2)``, sigma^2 the
one-day errors' sum of squares over ``n - FITTED`` degrees of freedom; the intervals are
normal (80% and 95%). Demand is never negative: means and bounds are cut at zero.

Pure: standard library only (see the README on why no forecasting library).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from api.domain.errors import InvalidInput

SEASON = 7
"""A week of days."""
MIN_HISTORY_DAYS = 2 * SEASON
"""Fewer days than two full weeks from the first order is too short for Holt-Winters."""
MAX_HISTORY_DAYS = 365
"""The history read: the last year (enough for a trend and weekly season; bounds the fit)."""
MAX_HORIZON_DAYS = 365
LEVELS = (0.80, 0.95)
"""The prediction intervals' levels."""
FITTED = 3 + 2 + (SEASON - 1)
"""Parameters taken from the data (alpha, beta, gamma, level, trend, free season states),
subtracted from the degrees of freedom of sigma^2."""


class Method(StrEnum):
    HOLT_WINTERS = "HOLT_WINTERS"
    MEAN_FALLBACK = "MEAN_FALLBACK"


@dataclass(frozen=True)
class Interval:
    level: float
    low: float
    high: float


@dataclass(frozen=True)
class DayForecast:
    day: date
    mean: float
    """Expected units, at least zero."""
    sd: float
    """Standard deviation of the forecast error for this day."""
    intervals: tuple[Interval, ...]
    """One per level of ``LEVELS``."""


@dataclass(frozen=True)
class Smoothing:
    alpha: float
    beta: float
    gamma: float


@dataclass(frozen=True)
class Forecast:
    method: Method
    reason: str
    history_first: date | None
    """The first day of the history (its first order); None without one."""
    history: tuple[int, ...]
    """Units ordered per day from ``history_first`` to the day before ``days[0]``."""
    sigma: float
    """Standard deviation of a one-day forecast error (the fallback: of one day's demand)."""
    smoothing: Smoothing | None
    days: tuple[DayForecast, ...]


def horizon(days: int, field: str = "days") -> int:
    if not 1 <= days <= MAX_HORIZON_DAYS:
        raise InvalidInput(field, f"from 1 to {MAX_HORIZON_DAYS} days")
    return days


def history_window(today: date) -> tuple[date, date]:
    """The days read for a forecast made on ``today``: the last year up to yesterday."""
    return today - timedelta(days=MAX_HISTORY_DAYS), today - timedelta(days=1)


def daily_series(first: date, last: date, units: Mapping[date, int]
                 ) -> tuple[date | None, tuple[int, ...]]:
    """Units per day from the first day of ``first..last`` with units to ``last``, the days
    without any filled with zero; (None, ()) when no day has units."""
    ordered = sorted(day for day, n in units.items() if n and first <= day <= last)
    if not ordered:
        return None, ()
    start = ordered[0]
    span = (last - start).days + 1
    return start, tuple(units.get(start + timedelta(days=i), 0) for i in range(span))


def interval(mean: float, sd: float, level: float) -> Interval:
    """The normal ``level`` interval around ``mean``, cut at zero."""
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2)
    return Interval(level, max(mean - z * sd, 0.0), max(mean + z * sd, 0.0))


def _day(day: date, mean: float, sd: float) -> DayForecast:
    mean = max(mean, 0.0)
    return DayForecast(day, mean, sd, tuple(interval(mean, sd, level) for level in LEVELS))


def forecast(history_first: date | None, history: Sequence[int], start: date, days: int
             ) -> Forecast:
    """``days`` days from ``start`` (the day after the history)."""
    if history_first is None or not history:
        return mean_fallback(None, (), start, days, "no orders in the last "
                             f"{MAX_HISTORY_DAYS} days")
    if len(history) < MIN_HISTORY_DAYS:
        return mean_fallback(history_first, history, start, days, (
            f"only {len(history)} days since the first order on {history_first.isoformat()}; "
            f"Holt-Winters needs at least {MIN_HISTORY_DAYS} (two full weeks)"))
    return holt_winters(history_first, history, start, days)


def mean_fallback(history_first: date | None, history: Sequence[int], start: date,
                  days: int, reason: str) -> Forecast:
    """Every day the mean of the days seen; its spread the larger of the days' sample
    standard deviation and Poisson's (the square root of the mean), widened by
    ``sqrt(1 + 1/n)`` for the mean's own error."""
    n = len(history)
    mean = statistics.fmean(history) if n else 0.0
    spread = statistics.stdev(history) if n >= 2 else 0.0
    sigma = max(spread, math.sqrt(mean))
    sd = sigma * math.sqrt(1 + 1 / n) if n else 0.0
    return Forecast(Method.MEAN_FALLBACK, reason, history_first, tuple(history), sigma, None,
                    tuple(_day(start + timedelta(days=i), mean, sd) for i in range(days)))


@dataclass(frozen=True)
class States:
    level: float
    trend: float
    season: tuple[float, ...]
    """Indexed by a day's position in the history, modulo 7."""


def initial_states(history: Sequence[int]) -> States:
    """From the first two weeks: week means give the level and the trend; each weekday's
    mean distance from that trend line, centred on zero, the season."""
    first = statistics.fmean(history[:SEASON])
    second = statistics.fmean(history[SEASON:2 * SEASON])
    trend = (second - first) / SEASON
    middle = (SEASON - 1) / 2

    def line(t: int) -> float:
        return first + (t - middle) * trend

    raw = [statistics.fmean([history[i] - line(i), history[i + SEASON] - line(i + SEASON)])
           for i in range(SEASON)]
    centre = statistics.fmean(raw)
    # The level before the first day, so that its forecast lies on the line.
    return States(line(-1), trend, tuple(r - centre for r in raw))


def _run(history: Sequence[int], start: States, alpha: float, beta: float, gamma: float
         ) -> tuple[float, States]:
    level, trend = start.level, start.trend
    season = list(start.season)
    sse = 0.0
    for t, y in enumerate(history):
        phase = t % SEASON
        error = y - (level + trend + season[phase])
        sse += error * error
        level += trend + alpha * error
        trend += beta * error
        season[phase] += gamma * error
    return sse, States(level, trend, tuple(season))


def smoothing(x: Sequence[float]) -> Smoothing:
    """alpha, beta, gamma from three numbers in (0, 1): beta = alpha * x1 and
    gamma = (1 - alpha) * x2, so every point is inside the usual region."""
    alpha, b, g = (min(max(v, 1e-4), 1 - 1e-4) for v in x)
    return Smoothing(alpha, alpha * b, (1 - alpha) * g)


GRID = (0.05, 0.2, 0.4, 0.6, 0.8)


def fit(history: Sequence[int]) -> tuple[Smoothing, float, States]:
    """The smoothing that minimises the one-day errors' sum of squares: (it, sse, states
    after the last day)."""
    start = initial_states(history)

    def sse(x: Sequence[float]) -> float:
        p = smoothing(x)
        return _run(history, start, p.alpha, p.beta, p.gamma)[0]

    best = min(((a, b, g) for a in GRID for b in GRID[:3] for g in GRID[:3]), key=sse)
    found = nelder_mead(sse, best, step=0.1)
    chosen = smoothing(found)
    total, end = _run(history, start, chosen.alpha, chosen.beta, chosen.gamma)
    return chosen, total, end


def nelder_mead(f: Callable[[Sequence[float]], float], x0: Sequence[float], step: float,
                iterations: int = 120, tolerance: float = 1e-9) -> list[float]:
    """Minimise ``f`` from ``x0`` (points are kept in [0, 1])."""
    def clip(p: Sequence[float]) -> list[float]:
        return [min(max(v, 0.0), 1.0) for v in p]

    simplex = [clip(x0)] + [clip([v + (step if i == j else 0.0) for j, v in enumerate(x0)])
                            for i in range(len(x0))]
    values = [f(p) for p in simplex]
    for _ in range(iterations):
        order = sorted(range(len(simplex)), key=values.__getitem__)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        if values[-1] - values[0] <= tolerance * (1 + abs(values[0])):
            break
        centroid = [statistics.fmean(c) for c in zip(*simplex[:-1], strict=True)]
        worst = simplex[-1]
        reflected = clip(_toward(centroid, worst, -1.0))
        fr = f(reflected)
        if fr < values[0]:
            expanded = clip(_toward(centroid, worst, -2.0))
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = clip(_toward(centroid, worst, 0.5))
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                best = simplex[0]
                simplex = [best] + [clip([b + 0.5 * (v - b) for b, v in zip(best, p,
                                                                            strict=True)])
                                    for p in simplex[1:]]
                values = [values[0]] + [f(p) for p in simplex[1:]]
    return simplex[min(range(len(simplex)), key=values.__getitem__)]


def _toward(centroid: Sequence[float], worst: Sequence[float], t: float) -> list[float]:
    """The point ``t`` of the way from the centroid to the worst point (negative: away)."""
    return [c + t * (w - c) for c, w in zip(centroid, worst, strict=True)]


def error_sd(sigma: float, p: Smoothing, h: int) -> float:
    """The standard deviation of the ``h``-day-ahead forecast error of ETS(A,A,A)."""
    total = 1.0
    for j in range(1, h):
        c = p.alpha + p.beta * j + (p.gamma if j % SEASON == 0 else 0.0)
        total += c * c
    return sigma * math.sqrt(total)


def holt_winters(history_first: date, history: Sequence[int], start: date, days: int
                 ) -> Forecast:
    p, sse, end = fit(history)
    n = len(history)
    sigma = math.sqrt(sse / max(n - FITTED, 1))
    found = [_day(start + timedelta(days=h - 1),
                  end.level + h * end.trend + end.season[(n + h - 1) % SEASON],
                  error_sd(sigma, p, h))
             for h in range(1, days + 1)]
    reason = (f"additive Holt-Winters (weekly season) fitted to {n} days from "
              f"{history_first.isoformat()}")
    return Forecast(Method.HOLT_WINTERS, reason, history_first, tuple(history), sigma, p,
                    tuple(found))
