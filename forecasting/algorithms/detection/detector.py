"""The streaming per-series anomaly detector.

Each `update(ts, value)` scores the new point against state built from earlier points only, then
learns from it. Sub-detectors (each a score in [0, 1], reported in `Score.components`):

- ``ewma``: z-score against an exponentially weighted mean and variance;
- ``iqr``: distance outside the Tukey fences of the last WINDOW values (a sorted ring buffer);
- ``seasonal``: robust z against a time-of-day (DAY_BINS quarter-hours) or hour-of-week profile of
  streaming medians and winsorised mean absolute deviations, used once the sampling interval
  (<= 1 h) and the history (>= 2 days; 3 weeks for the weekly one) make it meaningful and it
  explains the series better than its overall level; the neighbouring bins are tolerated, so a
  pattern a little early or late is not an anomaly;
- ``level``: a short exponential mean of the residual from that baseline (level shifts);
- ``variance`` / ``trend``: fast against slow averages of the absolute and signed changes;
- ``iforest`` / ``ocsvm``: periodically trained models (see models.py), looked up per point;
- ``context``: contextual novelty (context.py, in the spirit of CAD OSE): the share of the point's
  contexts (its value level after the sets of levels of the last few points) never seen before;
  not calibrated by rarity (a context is novel once), weighted W_CONTEXT.
- ``range``: 1 when the value lies beyond the range seen so far (all of the series' history) by more
  than RANGE_MARGIN of that range's width, once RANGE_AFTER points have been seen; such a point
  scores at least RANGE_SCORE (divided by the feedback factor), whatever the other components say,
  and is not damped by a rest (RANGE_ESCALATES).
- ``discord``: (off unless DISCORD_WEIGHT > 0) the z-normalised distance of the last discord.M
  points' shape to the nearest earlier window among the last WINDOW values (discord.py, matrix
  profile style), rarity-ranked like the deviations above (on its 4th power, for resolution).

Calibration: a deviation only counts when it is rare *for this series*. Each component keeps a
decayed log2 histogram of its past deviations; its score is the -log10 frequency of deviations at
least as large, mapped from [TAIL_LO, TAIL_HI] to [0, 1].

Ensemble: a noisy-OR of the component scores (ewma, iqr and seasonal, which see the same deviation,
count once, by the strongest) gives the raw surprise; the final score is the larger
of (a) the anomaly likelihood of the recent mean raw surprise against its long-run distribution
(as in Numenta's approach), on a log scale so that 0.5 is a 1e-5 tail, and (b) the raw surprise of
the point itself, raised to RANGE_SCORE for a range anomaly. After a score reaches FIRE the
detector rests for REST points (scores damped by REST_DAMP) so one anomaly makes one alert, not a
burst; only evidence ESCALATE stronger than the alert fires again while resting, and an episode
that goes on (scores still >= FIRE) keeps it resting for at least EXTEND more points.

Feedback: `Detector(desensitise=f)` and `suppress(kind, f)` (kind=None: every kind) make the series
less sensitive: deviations of that kind are divided by f (>= 1) and count as f² times more common
than observed. `suppress(kind, 1.0)` undoes it; the factors live in the state, and the integrator
can rebuild them from stored feedback rows at any time.
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, insort

from forecasting.algorithms.detection import context, discord
from forecasting.algorithms.detection.models import LAG, ModelTables
from forecasting.algorithms.detection.score import KINDS, Score

WINDOW = 256
EW_ALPHA = 0.05
LEVEL_ALPHA = 2.0 / (LAG + 1)
CHANGE_FAST, CHANGE_SLOW = 0.1, 0.01
PROFILE_ETA, PROFILE_STEP = 0.1, 0.5
LIK_SHORT = 8
LIK_ALPHA = 0.005
WARMUP = 100
FIRE = 0.6
REST = 100
REST_DAMP = 0.4
ESCALATE = 0.1
EXTEND = 50
DAY, WEEK = 86400.0, 604800.0
DAY_BINS = 96  # time-of-day profile: quarter-hours (hourly data fills one bin an hour)
FIRST_TRAIN, RETRAIN_EVERY = 300, 1000
_LOG_TINY = math.log(1e-10)
_SQRT2 = math.sqrt(2.0)

# Components of the ensemble: name, noisy-OR weight, and the smallest deviation that can count
# (z units; for the models 1 / tail probability).
COMPONENTS = ("ewma", "iqr", "seasonal", "level", "variance", "trend", "iforest", "ocsvm", "discord")
WEIGHTS = (0.6, 0.6, 0.8, 0.6, 0.5, 0.3, 0.5, 0.5)  # discord: DISCORD_WEIGHT
# ewma, iqr and seasonal measure the same point deviation: only the strongest of them counts.
GROUP = (1, 1, 1, 0, 0, 0, 0, 0, 0)
FLOORS = (3.0, 1.5, 3.0, 3.0, 0.7, 1.0, 7.7, 7.7, 1.0)
# Each component's deviation is scored by how rarely this series has deviated as much before: a
# decayed histogram of past deviations (BINS log2 bins per component, half-life ~2,000 points).
BINS, BINS_PER_OCTAVE = 24, 2
HIST_DECAY = 0.99965
TAIL_LO, TAIL_HI = 2.0, 3.3  # -log10 tail frequency: 1 % scores 0, ~0.05 % scores 1
W_CONTEXT = 0.6
DIRECT = 1.0
# Range: a value beyond the range seen so far by more than RANGE_MARGIN of its width (once the
# detector has seen RANGE_AFTER points) scores at least RANGE_SCORE; 0 turns it off.
RANGE_MARGIN = 0.05
RANGE_SCORE = 0.8
RANGE_AFTER = FIRST_TRAIN
RANGE_ESCALATES = True  # a range anomaly is never damped by a rest (it starts a new one)
# Discord (discord.py): noisy-OR weight of the shape-discord component; 0 turns it off (no cost).
DISCORD_WEIGHT = 0.0
DISCORD_EVERY = 1  # compute the distance every this many points (0 between; the window ring every point)
LIK_FLOOR = 0.02
_FEEDBACK_KEYS = ("*", *KINDS)

_SCALARS = (
    "n",
    "head",
    "first_ts",
    "last_ts",
    "dt",
    "mu",
    "var",
    "last_x",
    "dev_fast",
    "dev_slow",
    "slope_fast",
    "slope_slow",
    "seas_res",
    "week_res",
    "glob_res",
    "lik_mean",
    "lik_var",
    "lik_sum",
    "rest",
    "trained_at",
    "run_sign",
    "run_len",
    "lo",
    "hi",
    "ctx",
    "ctx_fill",
    "inc",
    "total",
    "lvl",
    "rest_level",
    "disc_at",
)
_HEAD = struct.Struct(f"<4sI{len(_SCALARS)}d")
_MAGIC = b"HD03"
# HD02 (before the discord component): no disc_at, no discord histogram, no window ring.
_HEAD_V2 = struct.Struct(f"<4sI{len(_SCALARS) - 1}d")
_MAGIC_V2 = b"HD02"


def _clip01(v: float) -> float:
    return 0.0 if v <= 0.0 else 1.0 if v >= 1.0 else v


def _ramp(z: float, lo: float, hi: float) -> float:
    """0 below lo, 1 above hi, linear in between (z already non-negative)."""
    return _clip01((z - lo) / (hi - lo))


class Detector:
    """Streaming detector for one series. Not thread-safe; one instance per series."""

    __slots__ = (
        *_SCALARS,
        "day_mad",
        "day_med",
        "factors",
        "lik_ring",
        "hist",
        "inv_sds",
        "mem_new",
        "mem_old",
        "models",
        "ring",
        "window",
        "week_mad",
        "week_med",
    )

    def __init__(self, desensitise: float = 1.0) -> None:
        for name in _SCALARS:
            setattr(self, name, 0.0)
        self.n = 0
        self.head = 0
        self.ring = array("d", bytes(8 * WINDOW))
        self.window = array("d")  # the last min(n, WINDOW) values, sorted
        nan = float("nan")
        self.day_med = array("d", [nan] * DAY_BINS)
        self.day_mad = array("d", [nan] * DAY_BINS)
        self.week_med = array("d", [nan] * 168)
        self.week_mad = array("d", [nan] * 168)
        self.lik_ring = array("d", bytes(8 * LIK_SHORT))
        self.factors = array("d", [1.0] * len(_FEEDBACK_KEYS))
        self.hist = array("d", bytes(8 * BINS * len(COMPONENTS)))
        self.inc, self.total = 1.0, 0.0
        self.inv_sds = array("f", bytes(4 * WINDOW))  # discord.py; current while disc_at == n
        self.mem_new = bytearray(context.memory_bytes())
        self.mem_old = bytearray(context.memory_bytes())
        self.factors[0] = max(1.0, float(desensitise))
        self.models: ModelTables | None = None

    # ----- feedback and training -------------------------------------------------------------

    def suppress(self, kind: str | None, factor: float) -> None:
        """Make this series less sensitive to one kind of deviation (None: to all). factor >= 1
        divides those deviations; 1.0 restores the default."""
        self.factors[_FEEDBACK_KEYS.index(kind or "*")] = max(1.0, float(factor))

    def needs_training(self) -> bool:
        if self.n < FIRST_TRAIN:
            return False
        if self.trained_at == 0:
            return True
        return self.n - self.trained_at >= min(RETRAIN_EVERY, self.trained_at)

    def set_models(self, blob: bytes | None) -> None:
        """Install models from train_models(); None keeps the detector model-free until next time."""
        self.trained_at = float(self.n)
        self.models = ModelTables(blob) if blob else None

    # ----- the streaming step ----------------------------------------------------------------

    def update(self, ts: float, value: float) -> Score:
        """Score the point against what came before, then learn from it (see the module docstring)."""
        x = float(value)
        ts = float(ts)
        if not math.isfinite(x):
            return Score(0.0, self._confidence(), self.mu, self.mu, self.mu)
        n = self.n
        floor = 1e-6 * (abs(self.mu) + 1.0)
        med, scale_w, sd, z_ewma, fence, prev_mean, change, z_var, z_trend = self._local(x, floor)
        b_day = int(ts // (DAY / DAY_BINS)) % DAY_BINS
        b_week = int((ts + 3 * DAY) // 3600.0) % 168  # Monday 00:00 UTC = bin 0
        p_med, p_scale, z_seas = self._seasonal(ts, x, b_day, b_week, floor, scale_w)

        # Level: recent mean residual from the baseline (the seasonal profile when it applies).
        resid = 0.0
        if p_med == p_med:
            resid = (x - p_med) / p_scale
        elif len(self.window) >= 8:
            resid = (x - med) / scale_w
        z_level = self.lvl + LEVEL_ALPHA * (resid - self.lvl)

        # Range (before the point widens it), then context novelty (as in CAD OSE): has this
        # sequence of value levels been seen?
        outside = self._outside(x)
        novel = self._novelty(x)
        shape = self._discord(x) if DISCORD_WEIGHT > 0.0 and n % DISCORD_EVERY == 0 else 0.0

        u_forest = u_svm = 0.0
        if self.models is not None and n >= LAG:
            u_forest, u_svm = self.models.lookup(x, x - prev_mean)

        kind = self._kind(x, z_ewma, fence, z_level, z_var, z_trend, z_seas, max(u_forest, u_svm))
        if kind is None and outside:
            kind = "spike" if outside > 0 else "drop"
        f = self.factors[0]
        if kind is not None:
            f *= self.factors[1 + KINDS.index(kind)]
        # Deviation magnitudes, desensitised by feedback, then scored by how rarely this series
        # has deviated as much before (_rarity).
        devs = (
            abs(z_ewma) / f,
            fence / f,
            abs(z_seas) / f,
            abs(z_level) / f,
            abs(z_var) / f,
            abs(z_trend) / f,
            1.0 / ((1.0 - u_forest) * f + 0.004),
            1.0 / ((1.0 - u_svm) * f + 0.004),
            (shape / f) ** 4,
        )
        comps, keep = self._rarity(devs, f)
        comps["context"] = c = novel / f if n >= WARMUP else 0.0
        raw = 1.0 - keep * (1.0 - W_CONTEXT * c)
        comps["likelihood"] = likelihood = self._likelihood(raw)
        comps["range"] = 1.0 if outside else 0.0
        surprise = max(likelihood, DIRECT * raw) * min(1.0, n / WARMUP)
        score = self._rest(max(surprise, RANGE_SCORE / f) if outside else surprise, outside != 0)

        if p_med == p_med:
            expected, half = p_med, 3.0 * p_scale
        else:
            expected, half = (self.mu if n else x), 3.0 * sd
        confidence = self._confidence()
        self._learn(ts, x, change, med, b_day, b_week, floor, scale_w, z_level)
        named = kind if max(score, raw) >= 0.3 else None
        return Score(score, confidence, expected, expected - half, expected + half, named, comps)

    def _local(self, x: float, floor: float) -> tuple[float, ...]:
        """Deviations of x from the recent window (before x joins it): (median, robust scale,
        EW standard deviation, EW z, Tukey fence distance, mean of the last LAG points, change from
        the last point, log variance ratio, trend z)."""
        n = self.n
        win = self.window
        m = len(win)
        if m >= 8:
            q1, med, q3 = win[m >> 2], win[m >> 1], win[(3 * m) >> 2]
        else:
            q1 = med = q3 = self.mu if n else x
        iqr = max(q3 - q1, floor)
        sd = math.sqrt(self.var) + floor
        z_ewma = (x - self.mu) / sd if n else 0.0
        fence = (x - q3) / iqr if x > q3 else (q1 - x) / iqr if x < q1 else 0.0
        ring, head = self.ring, self.head
        k = min(n, LAG)
        recent = 0.0
        for j in range(1, k + 1):
            recent += ring[(head - j) % WINDOW]
        prev_mean = recent / k if k else x
        change = x - self.last_x if n else 0.0
        z_var = math.log((self.dev_fast + floor) / (self.dev_slow + floor)) if n > 20 else 0.0
        z_trend = (self.slope_fast - self.slope_slow) / (self.dev_slow + floor) if n > 20 else 0.0
        return med, iqr / 1.349, sd, z_ewma, fence, prev_mean, change, z_var, z_trend

    def _seasonal(self, ts, x, b_day, b_week, floor, scale_w) -> tuple[float, float, float]:
        """(profile median, profile scale, seasonal z) of x; the median is NaN when no seasonal
        profile applies (sampling > 1 h, < 2 days of history, or the profile explains no more than
        the overall level)."""
        nan = float("nan")
        elapsed = ts - self.first_ts if self.n else 0.0
        seasonal_on = elapsed >= 2 * DAY and 0 < self.dt <= 3600.0 and self.seas_res < 0.8 * self.glob_res
        if not seasonal_on:
            return nan, scale_w, 0.0
        if elapsed >= 3 * WEEK and self.week_res < 0.9 * self.seas_res:
            meds, mads, b, nb = self.week_med, self.week_mad, b_week, 168
        else:
            meds, mads, b, nb = self.day_med, self.day_mad, b_day, DAY_BINS
        p_med, p_mad = meds[b], mads[b]
        p_scale = 1.25 * p_mad + floor if p_mad == p_mad else scale_w
        if p_med != p_med:
            return nan, p_scale, 0.0
        # The smallest deviation from this bin and its two neighbours: a pattern that comes a
        # little early or late is not an anomaly.
        z_seas = (x - p_med) / p_scale
        for nbr in ((b - 1) % nb, (b + 1) % nb):
            q_med = meds[nbr]
            if q_med == q_med:
                z = (x - q_med) / (1.25 * mads[nbr] + floor)
                if abs(z) < abs(z_seas):
                    z_seas = z
        return p_med, p_scale, z_seas

    def _rarity(self, devs: tuple[float, ...], f: float) -> tuple[dict[str, float], float]:
        """Each component's score (how rare a deviation this large is for this series: a decayed
        histogram of its past deviations) and the noisy-OR complement of the ensemble so far."""
        n = self.n
        hist, inc = self.hist, self.inc
        rarity = f * f  # feedback: deviations of a suppressed kind count as f² times more common
        total = self.total
        comps = {}
        keep = 1.0
        group = 0.0
        weights = (*WEIGHTS, DISCORD_WEIGHT)
        for j, name in enumerate(COMPONENTS):
            v = devs[j] / FLOORS[j]
            c = 0.0
            if v >= 1.0:
                b = min(int(math.log2(v) * BINS_PER_OCTAVE) + 1, BINS - 1)
                base = j * BINS
                tail = inc
                for k in range(base + b, base + BINS):
                    tail += hist[k]
                c = _ramp(-math.log10(rarity * tail / (total + inc)), TAIL_LO, TAIL_HI)
                if n >= WARMUP:
                    hist[base + b] += inc
            comps[name] = c
            if GROUP[j]:
                group = max(group, weights[j] * c)
            else:
                keep *= 1.0 - weights[j] * c
        self.total = total + inc
        self.inc = inc / HIST_DECAY
        if self.inc > 1e12:
            self._rescale()
        return comps, keep * (1.0 - group)

    def _likelihood(self, raw: float) -> float:
        """Anomaly likelihood of the recent mean raw surprise against its long-run distribution
        (log scale: 0.5 is a 1e-5 tail)."""
        slot = self.n % LIK_SHORT
        self.lik_sum += raw - self.lik_ring[slot]
        self.lik_ring[slot] = raw
        short = self.lik_sum / min(self.n + 1, LIK_SHORT)
        z_lik = (short - self.lik_mean) / max(math.sqrt(self.lik_var), LIK_FLOOR)
        tail = 0.5 * math.erfc(z_lik / _SQRT2)
        d = raw - self.lik_mean
        self.lik_mean += LIK_ALPHA * d
        self.lik_var = (1.0 - LIK_ALPHA) * (self.lik_var + LIK_ALPHA * d * d)
        return math.log(max(tail, 1e-10)) / _LOG_TINY

    def _rest(self, score: float, outside: bool) -> float:
        """One episode, one alert: after a score reaches FIRE, damp the next REST points unless
        the evidence is ESCALATE stronger or the value breaks the range seen so far
        (RANGE_ESCALATES); an episode that goes on keeps the detector resting."""
        if self.rest > 0 and score < self.rest_level + ESCALATE and not (outside and RANGE_ESCALATES):
            self.rest = max(self.rest - 1, EXTEND if score >= FIRE else 0)
            return score * REST_DAMP
        if score >= FIRE:
            self.rest, self.rest_level = REST, score
        return score

    def _kind(self, x, z_ewma, fence, z_level, z_var, z_trend, z_seas, u_model) -> str | None:
        """The most plausible kind of deviation, from the sub-detectors' evidence."""
        if self.run_len >= LAG and abs(z_level) >= 3.0:
            return "level_shift"
        if abs(z_var) >= 1.0 and abs(z_ewma) < 4.0 and fence < 1.5:
            return "variance"
        if abs(z_ewma) >= 4.0 or fence >= 1.5:
            return "spike" if z_ewma > 0 else "drop"
        if abs(z_trend) >= 1.0:
            return "trend_change"
        if abs(z_seas) >= 4.0 or u_model >= 0.97:
            return "pattern"
        return None

    def _learn(self, ts, x, change, med, b_day, b_week, floor, scale_w, z_level) -> None:
        n = self.n
        if n == 0:
            self.first_ts = ts
            self.mu = x
        else:
            if ts > self.last_ts:
                gap = ts - self.last_ts
                self.dt = gap if self.dt == 0 else self.dt + 0.05 * (gap - self.dt)
            d = x - self.mu
            self.mu += EW_ALPHA * d
            self.var = (1.0 - EW_ALPHA) * (self.var + EW_ALPHA * d * d)
            a = abs(change)
            self.dev_fast += CHANGE_FAST * (a - self.dev_fast)
            self.dev_slow += CHANGE_SLOW * (a - self.dev_slow)
            self.slope_fast += CHANGE_FAST * (change - self.slope_fast)
            self.slope_slow += CHANGE_SLOW * (change - self.slope_slow)
        self.last_ts, self.last_x = ts, x
        self.lvl = z_level

        sign = 1.0 if z_level > 2.0 else -1.0 if z_level < -2.0 else 0.0
        if sign != 0.0 and sign == self.run_sign:
            self.run_len += 1
        else:
            self.run_sign, self.run_len = sign, (1.0 if sign else 0.0)

        # Seasonal profiles: streaming median (clipped steps) and MAD (multiplicative steps).
        noise = max(self.dev_slow, floor)
        res_day = self._profile_step(self.day_med, self.day_mad, b_day, x, floor, noise)
        res_week = self._profile_step(self.week_med, self.week_mad, b_week, x, floor, noise)
        self.seas_res += CHANGE_SLOW * (res_day - self.seas_res)
        self.week_res += CHANGE_SLOW * (res_week - self.week_res)
        self.glob_res += CHANGE_SLOW * (abs(x - med) - self.glob_res)

        # Ring buffer and its sorted twin.
        win = self.window
        if len(win) >= WINDOW:
            del win[bisect_left(win, self.ring[self.head])]
        insort(win, x)
        self.ring[self.head] = x
        if DISCORD_WEIGHT > 0.0 and self.disc_at == n:
            discord.after_push(self.inv_sds, self.ring, self.head, n + 1)
            self.disc_at = n + 1
        self.head = (self.head + 1) % WINDOW
        self.n = n + 1

    @staticmethod
    def _profile_step(meds: array, mads: array, b: int, x: float, floor: float, noise: float) -> float:
        """Streaming median (clipped steps) and winsorised mean absolute deviation of one bin,
        started from the series' typical point-to-point change."""
        m = meds[b]
        if m != m:
            meds[b], mads[b] = x, noise
            return noise
        s = mads[b]
        r = abs(x - m)
        step = PROFILE_STEP * max(s, floor)
        meds[b] = m + max(-step, min(step, x - m))
        mads[b] = max(s + PROFILE_ETA * (min(r, 4.0 * max(s, noise)) - s), floor)
        return r

    def _rescale(self) -> None:
        scale = 1.0 / self.inc
        hist = self.hist
        for k in range(len(hist)):
            hist[k] *= scale
        self.total *= scale
        self.inc = 1.0

    def _outside(self, x: float) -> int:
        """1 (above) or -1 (below) when x is beyond the range seen so far by more than
        RANGE_MARGIN of its width, else 0."""
        if RANGE_MARGIN <= 0.0 or self.n < RANGE_AFTER:
            return 0
        margin = RANGE_MARGIN * (self.hi - self.lo)
        if margin <= 0.0:
            return 0
        return 1 if x > self.hi + margin else -1 if x < self.lo - margin else 0

    def _novelty(self, x: float) -> float:
        """Contextual novelty of x (context.py), then x joins the history and the learned range."""
        n = self.n
        novel = 0.0
        if n:
            level = context.level_of(x, self.lo, self.hi)
            novel, added = context.novelty(int(self.ctx), n, level, self.mem_new, self.mem_old)
            self.ctx_fill += added
            if self.ctx_fill >= context.FILL:
                self.mem_old[:] = self.mem_new
                self.mem_new[:] = bytes(len(self.mem_new))
                self.ctx_fill = 0.0
        if n == 0 or x < self.lo:
            self.lo = x
        if n == 0 or x > self.hi:
            self.hi = x
        self.ctx = float(context.push(int(self.ctx), context.level_of(x, self.lo, self.hi)))
        return novel

    def _discord(self, x: float) -> float:
        """The discord distance of x's window (discord.py); the window ring is rebuilt from the
        value ring when it is not current (an older state, or the component was off)."""
        if self.disc_at != self.n:
            self.inv_sds = discord.rebuild(self.ring, self.head, self.n)
            self.disc_at = self.n
        return discord.distance(self.ring, self.inv_sds, self.head, self.n, x)

    def _confidence(self) -> float:
        c = min(1.0, self.n / FIRST_TRAIN)
        return c if self.models is not None else 0.8 * c

    # ----- persistence -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        head = _HEAD.pack(_MAGIC, len(self.window), *[float(getattr(self, s)) for s in _SCALARS])
        blob = self.models.blob if self.models is not None else b""
        return b"".join(
            (
                head,
                self.ring.tobytes(),
                self.window.tobytes(),
                self.day_med.tobytes(),
                self.day_mad.tobytes(),
                self.week_med.tobytes(),
                self.week_mad.tobytes(),
                self.lik_ring.tobytes(),
                self.factors.tobytes(),
                self.hist.tobytes(),
                self.inv_sds.tobytes() if self.disc_at == self.n else b"",
                self.mem_new,
                self.mem_old,
                blob,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Detector:
        """A detector from to_bytes(); an HD02 state (saved before the discord component) loads
        with an empty discord histogram and its window ring rebuilt when first needed."""
        magic = bytes(data[:4])
        if magic not in (_MAGIC, _MAGIC_V2):
            raise ValueError("not a detector state")
        current = magic == _MAGIC
        head = _HEAD if current else _HEAD_V2
        _, m, *scalars = head.unpack_from(data)
        det = cls.__new__(cls)
        if not current:
            scalars.append(-1.0)  # disc_at: the window ring is not current
        for name, v in zip(_SCALARS, scalars, strict=True):
            setattr(det, name, v)
        det.n, det.head = int(det.n), int(det.head)
        view = memoryview(data)
        pos = head.size
        n_hist = BINS * (len(COMPONENTS) if current else len(COMPONENTS) - 1)
        parts = []
        for count in (WINDOW, m, DAY_BINS, DAY_BINS, 168, 168, LIK_SHORT, len(_FEEDBACK_KEYS), n_hist):
            arr = array("d")
            arr.frombytes(view[pos : pos + 8 * count])
            parts.append(arr)
            pos += 8 * count
        (
            det.ring,
            det.window,
            det.day_med,
            det.day_mad,
            det.week_med,
            det.week_mad,
            det.lik_ring,
            det.factors,
            det.hist,
        ) = parts
        if not current:
            det.hist.extend([0.0] * BINS)
        det.inv_sds = array("f")
        if det.disc_at == det.n:
            det.inv_sds.frombytes(view[pos : pos + 4 * WINDOW])
            pos += 4 * WINDOW
        size = context.memory_bytes()
        det.mem_new = bytearray(view[pos : pos + size])
        det.mem_old = bytearray(view[pos + size : pos + 2 * size])
        pos += 2 * size
        det.models = ModelTables(bytes(view[pos:])) if pos < len(data) else None
        return det
