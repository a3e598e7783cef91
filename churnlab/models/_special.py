"""Special-function numerics of the beta-geometric family's expected purchases.

The conditional expectation of BG/NBD (Fader, Hardie & Lee 2005, eq. 10) and MBG/NBD
(Batislam et al. 2007) is, for a customer who is alive, ``E = E_p[(1 - (1 + p tau)^-A) / p]``
with ``p ~ Beta(a, B)``, ``A = r + x``, ``B = b + x (+ 1)`` and ``tau = t / (alpha + T)``
(the Gamma(A, alpha + T) posterior rate integrated out). In closed form

``E = (c / (a - 1)) [1 - 2F1(A, a - 1; c; -tau)] = A tau 3F2(A + 1, a, 1; a + B, 2; -tau)``

with ``c = a + B - 1`` (Pfaff's transformation of eq. 10). The first form has a removable
singularity at ``a = 1`` and scipy's ``hyp2f1`` fails (NaN, or silently wrong) when
``c - A - B`` is an integer near ``z = 1`` or the parameters are large. This module evaluates
``E`` in three tiers:

1. the ``3F2`` power series when ``tau`` is small enough for it to converge geometrically
   (accurate at ``a = 1`` and for ``z -> 0``, where the closed form cancels);
2. the closed form elsewhere, by quintic interpolation in ``a`` across ``a = 1``;
3. for every row whose closed form is non-finite, outside the bounds
   ``1 - (1 + tau)^-A <= E <= min(A tau, c / (a - 1))`` or at risk of scipy's failures, the
   defining integral over ``p`` by adaptive quadrature in ``logit(p)``, with both tails
   done analytically with the incomplete beta function.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import integrate
from scipy.special import betainc, log_expit

from churnlab.models._base import hyp2f1_safe


def _series(big_a: np.ndarray, a: np.ndarray, c1: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Sum ``A tau 3F2(A + 1, a, 1; c1, 2; -tau)`` as a power series (ratio bound < 1)."""
    term = big_a * tau
    total = term.copy()
    for k in range(1, 400):
        term = term * -((big_a + k) * (a + k - 1) / ((c1 + k - 1) * (k + 1)) * tau)
        total = total + term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    return total


def _closed(big_a: np.ndarray, a: float, big_b: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """FHL (2005) eq. 10 bracket times ``c / (a - 1)``, through the better-conditioned 2F1."""
    c = a + big_b - 1
    z = tau / (1 + tau)
    # (1 - z)^A 2F1(A, B; c; z) or its Euler transform (1 - z)^(a - 1) 2F1(c - A, a - 1; c; z):
    # the one whose c - A - B is >= 0 keeps the hypergeometric factor bounded as z -> 1.
    direct = a - 1 - big_a > 0
    h_a = np.where(direct, big_a, c - big_a)
    h_b = np.where(direct, big_b, a - 1)
    power = np.where(direct, big_a, a - 1)
    with np.errstate(all="ignore"):
        hyp = hyp2f1_safe(h_a, h_b, c, z)
        log_rest = power * np.log1p(-z) + np.log(hyp)
        plain = 1.0 - np.exp(power * np.log1p(-z)) * hyp
        bracket = np.where(hyp > 0, -np.expm1(log_rest), plain)
        return c / (a - 1) * bracket


def _closed_near_one(big_a: np.ndarray, a: float, big_b: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Evaluate the closed form, interpolated (quintic in ``a``) across ``a = 1``."""
    if abs(a - 1.0) >= 0.01:
        return _closed(big_a, a, big_b, tau)
    nodes = np.array([-0.03, -0.02, -0.01, 0.01, 0.02, 0.03])
    # B = b + x (+ 1) is held fixed; c = a + B - 1 moves with a, as E is analytic in a.
    values = [_closed(big_a, 1.0 + d, big_b, tau) for d in nodes]
    u = a - 1.0
    out = np.zeros_like(tau)
    for i, di in enumerate(nodes):
        weight = np.prod([(u - dj) / (di - dj) for j, dj in enumerate(nodes) if j != i])
        out = out + weight * values[i]
    return out


def beta_expectation(
    a: float,
    big_b: float,
    log_g: Any,
    *,
    ends: tuple[float, float, float, float],
    p_lo: float,
    d_hi: float,
    kinks: tuple[float, ...] = (),
) -> float:
    """``E[g(p)]`` for ``p ~ Beta(a, B)`` by adaptive quadrature in ``y = logit(p)``.

    Below ``p_lo`` and above ``1 - d_hi`` ``g`` is replaced by its tangent at 0 and at 1
    (``ends = (g(0), g'(0), g(1), g'(1))``) and integrated exactly with the regularised
    incomplete beta function, so any mass piled at either end (``a`` or ``B`` -> 0) is
    exact; the middle is integrated with breakpoints at the beta mode, +-1..8 of its
    width and at ``kinks`` (logits where ``g`` bends). The beta normaliser comes from the
    same quadrature, as scipy's ``betaln`` loses ``eps * gammaln`` at large ``a``, ``B``.
    """
    g0, dg0, g1, dg1 = ends
    left = g0 * betainc(a, big_b, p_lo) + dg0 * (a / (a + big_b)) * betainc(a + 1, big_b, p_lo)
    # P(p > 1 - d) = I_d(B, a) by symmetry: exact even where 1 - d rounds to 1.
    right = g1 * betainc(big_b, a, d_hi) - dg1 * (big_b / (a + big_b)) * betainc(big_b + 1, a, d_hi)
    y_lo, y_hi = np.log(p_lo) - np.log1p(-p_lo), np.log1p(-d_hi) - np.log(d_hi)

    def log_beta(y: np.ndarray) -> np.ndarray:
        return a * log_expit(y) + big_b * log_expit(-y)

    beta_mode = np.log(a) - np.log(big_b)
    width = np.sqrt(1.0 / a + 1.0 / big_b)
    marks = beta_mode + width * np.array([-8, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4, 8])
    marks = np.concatenate([marks, list(kinks), np.linspace(y_lo, y_hi, 25)])
    marks = np.unique(np.clip(marks[np.isfinite(marks)], y_lo, y_hi))
    points = [float(v) for v in marks if y_lo < v < y_hi] or None

    def integral(log_h: Any) -> tuple[float, float]:
        values = log_h(marks)
        peak = float(np.max(values[np.isfinite(values)]))
        with warnings.catch_warnings():
            # Roundoff warnings at 1e-11 relative: the result is still far inside 1e-9.
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            value, _ = integrate.quad(
                lambda y: float(np.exp(log_h(np.asarray(y)) - peak)),
                y_lo,
                y_hi,
                points=points,
                limit=2000,
                epsabs=0.0,
                epsrel=1e-11,
            )
        return value, peak

    num, peak_num = integral(lambda y: log_beta(y) + log_g(y))
    den, peak_den = integral(log_beta)
    mass = 1.0 - betainc(a, big_b, p_lo) - betainc(big_b, a, d_hi)
    middle = np.exp(peak_num - peak_den) * num / den * mass if den > 0 else 0.0
    return float(left + right + middle)


def _quadrature(big_a: float, a: float, big_b: float, tau: float) -> float:
    """``E_p[(1 - (1 + p tau)^-A) / p]``, ``p ~ Beta(a, B)``, by quadrature in ``y = logit(p)``."""
    g1 = -np.expm1(-big_a * np.log1p(tau))
    a_tau = big_a * tau
    # g(p) = A tau (1 - (A + 1) p tau / 2 + O((A p tau)^2)) near 0; |g'(1)| <= A tau + g(1).
    slope = a_tau * (1 + tau) ** (-big_a - 1) - g1

    def log_g(y: np.ndarray) -> np.ndarray:
        lp = log_expit(y)
        with np.errstate(all="ignore"):
            return np.log(-np.expm1(-big_a * np.log1p(np.exp(lp) * tau))) - lp

    return beta_expectation(
        a,
        big_b,
        log_g,
        ends=(a_tau, -0.5 * a_tau * (big_a + 1) * tau, g1, slope),
        p_lo=min(1e-7 / ((big_a + 1) * tau), 0.25),
        d_hi=min(1e-8 * g1 / (a_tau + 1 + g1), 0.25),
        kinks=(-np.log(a_tau),),
    )


def discounted_beta_sum(alpha: float, big_b: float, discount_rate: float) -> float:
    """``2F1(1, B; alpha + B; 1 / (1 + d))`` as ``E[1 / (eps + z w)]``, ``w ~ Beta(alpha, B)``.

    Euler's integral of the sBG discounted sums (Fader & Hardie 2010, eqs. 4 and 6):
    ``2F1(1, B; alpha + B; z) = E[1 / (1 - z u)]`` with ``u ~ Beta(B, alpha)`` the renewal
    probability, and ``1 - z u = eps + z w`` with ``w = 1 - u``, ``eps = d / (1 + d)``,
    ``z = 1 / (1 + d)``. scipy's ``hyp2f1`` overflows or returns NaN here when ``d`` is small
    and ``B`` large (``z -> 1``); the expectation is bounded by ``1 / eps`` and integrates
    stably for any ``alpha``, ``B`` and ``d > 0``.
    """
    z = 1.0 / (1.0 + discount_rate)
    eps = discount_rate / (1.0 + discount_rate)

    def log_g(y: np.ndarray) -> np.ndarray:
        return -np.log(eps + z * np.exp(log_expit(y)))

    return beta_expectation(
        alpha,
        big_b,
        log_g,
        ends=(1.0 / eps, -z / eps**2, 1.0, -z),
        p_lo=min(1e-7 * eps / z, 0.25),
        d_hi=1e-7,
        kinks=(np.log(eps / z),),
    )


def expected_alive(big_a: np.ndarray, a: float, big_b: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Return the expected purchases in the next ``t`` of a customer who is alive (BG/NBD family).

    Parameters
    ----------
    big_a : numpy.ndarray
        ``r + x``.
    a : float
        Beta shape of the dropout probability.
    big_b : numpy.ndarray
        ``b + x`` (BG/NBD) or ``b + x + 1`` (MBG/NBD).
    tau : numpy.ndarray
        ``t / (alpha + T)``, >= 0.

    Returns
    -------
    numpy.ndarray
        ``E[X(T, T + t] | alive]``, within ``[1 - (1 + tau)^-A, min(A tau, c / (a - 1))]``.
    """
    big_a, big_b, tau = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (big_a, big_b, tau))
    )
    big_a, big_b, tau = big_a.ravel(), big_b.ravel(), tau.ravel()
    c = a + big_b - 1
    out = np.zeros_like(tau)
    positive = tau > 0
    # Ratio bound of consecutive series terms: (A+k)(a+k-1) tau / ((c+k)(k+1)) <= q.
    q = tau * np.maximum(1.0, (big_a + 1) / (c + 1)) * max(1.0, a / 2)
    use_series = positive & (q < 0.5)
    if np.any(use_series):
        s = use_series
        out[s] = _series(big_a[s], np.full(s.sum(), a), c[s] + 1, tau[s])
    rest = positive & ~use_series
    if np.any(rest):
        out[rest] = _closed_near_one(big_a[rest], a, big_b[rest], tau[rest])
    lower = -np.expm1(-big_a * np.log1p(tau))
    upper = big_a * tau
    if a > 1:
        upper = np.minimum(upper, c / (a - 1))
    z = tau / (1 + tau)
    gap = np.abs(a - 1 - big_a)
    risky = (z > 0.9) & (np.abs(gap - np.round(gap)) < 1e-3)
    # scipy's hyp2f1 can be silently wrong at large parameters near z = 1; E is smooth in
    # B, so a closed form that moves by more than 1e-7 relative when B moves by 1e-9
    # relative is not trusted (and the row is integrated instead).
    check = rest & (z > 0.5) & (np.maximum(big_a, big_b) > 300)
    if np.any(check):
        moved = _closed_near_one(big_a[check], a, big_b[check] * (1 + 1e-9), tau[check])
        with np.errstate(invalid="ignore"):
            jump = np.abs(moved - out[check]) > 1e-7 * np.abs(out[check])
        risky[np.flatnonzero(check)[jump | ~np.isfinite(moved)]] = True
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(out) | (out < lower * (1 - 1e-9)) | (out > upper * (1 + 1e-9))
    redo = rest & (bad | risky)
    for i in np.flatnonzero(redo):
        out[i] = _quadrature(big_a[i], a, big_b[i], tau[i])
    return np.where(positive, np.clip(out, lower, upper), 0.0)


# ----------------------------------------------------------------------------- Pareto/NBD
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_PANELS = 3
_SPAN = 40.0  # nats below the maximum at which the integrand is cut (e^-40 ~ 4e-18)


def pareto_integral_quadrature(
    p: Any, q: Any, alpha: Any, beta: Any, lo: Any, hi: Any
) -> tuple[np.ndarray, ...]:
    """Return ``log I`` (``I = int_lo^hi (alpha + y)^-p (beta + y)^-q dy``) and moments.

    The Pareto/NBD likelihood (Fader & Hardie 2005, eqs. 18-22) and P(alive) need ``I``; its
    hypergeometric closed form converges like ``z^k`` with ``z = |alpha - beta| / (max + y)``,
    so it stalls (and scipy fails) as ``z -> 1``: ``min(alpha, beta) + y`` much smaller than
    ``|alpha - beta|``, which is the no-dropout boundary ``beta -> inf`` and the case
    ``alpha = 1e-3, beta = 1e3``. With ``u = log(d + y)`` (``d`` the smaller of alpha, beta,
    ``D = |alpha - beta|``) the log-integrand ``(1 - e_d) u - e_c log(D + e^u)`` is concave,
    so its maximum is known in closed form, the range where it is within 40 nats of the
    maximum is found by bisection, and 3 + 3 Gauss-Legendre panels of 16 nodes integrate it
    to ~1e-14 relative in bounded time for any parameters.

    Returns
    -------
    log_i : numpy.ndarray
        ``log I``.
    d_p, d_q : numpy.ndarray
        ``d log I / dp = -E_w[log(alpha + y)]`` and ``d log I / dq = -E_w[log(beta + y)]``.
    ratio_a, ratio_b : numpy.ndarray
        ``I(p + 1, q) / I = E_w[1 / (alpha + y)]`` and ``I(p, q + 1) / I = E_w[1 / (beta + y)]``.
    """
    p, q, alpha, beta, lo, hi = (
        np.asarray(v, dtype=float).ravel() for v in np.broadcast_arrays(p, q, alpha, beta, lo, hi)
    )
    a_small = alpha <= beta
    d = np.where(a_small, alpha, beta)
    e_d, e_c = np.where(a_small, p, q), np.where(a_small, q, p)
    with np.errstate(divide="ignore"):
        log_gap = np.log(np.abs(alpha - beta))

    # The integration variable is v = u - log(d + lo), so the width of a short interval,
    # log1p((hi - lo) / (d + lo)), keeps full relative precision.
    base = np.log(d + lo)

    def log_f(v: np.ndarray) -> np.ndarray:
        if v.ndim == 2:
            u = base[:, None] + v
            return (1.0 - e_d[:, None]) * u - e_c[:, None] * np.logaddexp(log_gap[:, None], u)
        u = base + v
        return (1.0 - e_d) * u - e_c * np.logaddexp(log_gap, u)

    u_lo, u_hi = np.zeros_like(base), np.log1p((hi - lo) / (d + lo))
    slope = 1.0 - e_d
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(slope / e_c, 1e-300, 1 - 1e-16)
        inner = log_gap + np.log(share) - np.log1p(-share) - base
    u_star = np.where(slope <= 0, u_lo, np.where(slope >= e_c, u_hi, inner))
    u_star = np.clip(np.nan_to_num(u_star, nan=0.0, neginf=-np.inf), u_lo, u_hi)
    peak = log_f(u_star)

    def cut(a_end: np.ndarray) -> np.ndarray:
        # Point between the maximum and the end where log f = peak - SPAN (or the end).
        out = a_end.copy()
        far = np.flatnonzero(~(log_f(a_end) >= peak - _SPAN))
        if far.size == 0:
            return out
        b_f, ed_f, ec_f, gap_f = base[far], e_d[far], e_c[far], log_gap[far]
        target = peak[far] - _SPAN
        left, right = u_star[far], a_end[far]  # log f(left) >= target > log f(right)
        for _ in range(32):
            mid = 0.5 * (left + right)
            u = b_f + mid
            above = (1.0 - ed_f) * u - ec_f * np.logaddexp(gap_f, u) >= target
            left = np.where(above, mid, left)
            right = np.where(above, right, mid)
        out[far] = right
        return out

    u_a, u_b = cut(u_lo), cut(u_hi)
    total = np.zeros_like(p)
    m_la, m_lb, m_ia, m_ib = (np.zeros_like(p) for _ in range(4))
    for start, end in ((u_a, u_star), (u_star, u_b)):
        width = (end - start) / _PANELS
        for k in range(_PANELS):
            centre = start + (k + 0.5) * width
            u = base[:, None] + (centre[:, None] + 0.5 * width[:, None] * _GL_X[None, :])
            log_c = np.logaddexp(log_gap[:, None], u)  # log(c + y); u = log(d + y)
            log_w = (1.0 - e_d[:, None]) * u - e_c[:, None] * log_c - peak[:, None]
            w = np.exp(log_w) * (0.5 * width[:, None] * _GL_W)
            small = a_small[:, None]
            total += w.sum(axis=1)
            m_la += (w * np.where(small, u, log_c)).sum(axis=1)
            m_lb += (w * np.where(small, log_c, u)).sum(axis=1)
            inv_d, inv_c = np.exp(-u), np.exp(-log_c)
            m_ia += (w * np.where(small, inv_d, inv_c)).sum(axis=1)
            m_ib += (w * np.where(small, inv_c, inv_d)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_i = peak + np.log(total)
        return log_i, -m_la / total, -m_lb / total, m_ia / total, m_ib / total


def beta_survival(big_a: np.ndarray, a: float, big_b: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``E_p[(1 + p tau)^-A]`` for ``p ~ Beta(a, B)``: survival to ``T + t`` of an alive customer.

    In the BG/NBD family a customer alive at ``T`` with rate ``lambda`` and dropout probability
    ``p`` drops out at rate ``lambda p`` (each purchase is the last with probability ``p``), so
    stays alive through ``(T, T + t]`` with probability ``exp(-lambda p t)``; integrating
    ``lambda ~ Gamma(A, alpha + T)`` and ``p ~ Beta(a, B)`` (the posteriors given alive, FHL 2005
    section 4) gives ``2F1(A, a; a + B; -tau) = (1 + tau)^-A 2F1(A, B; a + B; tau / (1 + tau))``
    (Pfaff), ``tau = t / (alpha + T)``. The second form has positive terms; rows where scipy's
    value is not finite or leaves the bounds ``(1 + E[p] tau)^-A <= value <= 1`` (Jensen) are
    integrated over ``p`` instead (:func:`beta_expectation`).

    Parameters
    ----------
    big_a : numpy.ndarray
        ``r + x``.
    a : float
        Beta shape of the dropout probability.
    big_b : numpy.ndarray
        ``b + x`` (BG/NBD) or ``b + x + 1`` (MBG/NBD).
    tau : numpy.ndarray
        ``t / (alpha + T)``, >= 0.

    Returns
    -------
    numpy.ndarray
        Values in ``[0, 1]``, 1 where ``tau = 0``.
    """
    big_a, big_b, tau = (
        v.ravel()
        for v in np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (big_a, big_b, tau)))
    )
    z = tau / (1.0 + tau)
    with np.errstate(all="ignore"):
        hyp = hyp2f1_safe(big_a, big_b, a + big_b, z)
        out = np.exp(-big_a * np.log1p(tau) + np.log(hyp))
        lower = np.exp(-big_a * np.log1p(a / (a + big_b) * tau))
    redo = (tau > 0) & ~(np.isfinite(out) & (out >= lower * (1 - 1e-9)) & (out <= 1 + 1e-12))
    for i in np.flatnonzero(redo):
        ai, ti = big_a[i], tau[i]
        g1 = np.exp(-ai * np.log1p(ti))

        def log_g(y: np.ndarray, ai: float = ai, ti: float = ti) -> np.ndarray:
            return -ai * np.log1p(np.exp(log_expit(y)) * ti)

        out[i] = beta_expectation(
            a,
            big_b[i],
            log_g,
            ends=(1.0, -ai * ti, g1, -ai * ti * g1 / (1.0 + ti)),
            p_lo=min(1e-7 / ((ai + 1.0) * ti), 0.25),
            d_hi=1e-8,
            kinks=(-np.log(max(ai * ti, 1e-300)),),
        )
    return np.where(tau > 0, np.clip(out, lower, 1.0), 1.0)
