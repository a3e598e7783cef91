"""Closed-form (hypergeometric) integrals of the Pareto/NBD model, evaluated row by row.

``I(p, q) = int_lo^hi (alpha + y)^-p (beta + y)^-q dy`` through the Gaussian hypergeometric
function on the branch ``c = max(alpha, beta)``, so that its argument ``|alpha - beta| / (c + y)``
lies in [0, 1) (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model", eqs. 19-20),
with the bounded-time quadrature of :mod:`churnlab.models._special` where the series is slow.
Predictions (P(alive), P(no purchase)) and the per-row likelihood use these; the fit's total
likelihood uses the pair tables of :mod:`churnlab.models._pareto_terms`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from churnlab.models._base import hyp2f1_safe
from churnlab.models._special import pareto_integral_quadrature


def _euler_series(
    pc: np.ndarray, m: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``G = 2F1(1, pc; m + 1; z) = sum_k g_k`` and its term-wise derivatives.

    ``g_k = prod_{j<k} (pc + j) / (m + 1 + j) z`` with ``0 <= pc <= m + 1`` and ``0 <= z < 1``,
    so terms fall at least like ``z^k``. Returns ``G``, ``sum_k g_k (H_pc - H_m)`` and
    ``sum_k g_k H_pc`` (``H_pc = sum_{j<k} 1 / (pc + j)``, ``H_m = sum_{j<k} 1 / (m + 1 + j)``).
    Rows drop out of the loop as they converge.
    """
    g_sum, dm_sum, dq_sum = np.zeros_like(z), np.zeros_like(z), np.zeros_like(z)
    active = np.arange(z.size)
    pc_a, m_a, z_a = pc, m, z
    term, h_pc, h_m = np.ones_like(z), np.zeros_like(z), np.zeros_like(z)
    g_a, dm_a, dq_a = np.zeros_like(z), np.zeros_like(z), np.zeros_like(z)
    for k in range(200_000):
        g_a += term
        dm_a += term * (h_pc - h_m)
        dq_a += term * h_pc
        h_pc = h_pc + 1.0 / (pc_a + k)
        h_m = h_m + 1.0 / (m_a + 1.0 + k)
        term = term * (pc_a + k) / (m_a + 1.0 + k) * z_a
        if k % 32 == 31:
            done = term * (1.0 + h_pc + h_m) <= 1e-17 * g_a
            if np.any(done):
                idx = active[done]
                g_sum[idx], dm_sum[idx], dq_sum[idx] = g_a[done], dm_a[done], dq_a[done]
                keep = ~done
                active = active[keep]
                if active.size == 0:
                    break
                pc_a, m_a, z_a, term, h_pc, h_m = (
                    v[keep] for v in (pc_a, m_a, z_a, term, h_pc, h_m)
                )
                g_a, dm_a, dq_a = g_a[keep], dm_a[keep], dq_a[keep]
    if active.size:
        g_sum[active], dm_sum[active], dq_sum[active] = g_a, dm_a, dq_a
    return g_sum, dm_sum, dq_sum


def _log_phi(m: Any, qd: Any, c: Any, d: Any, y: Any) -> np.ndarray:
    """``log int_y^inf (c + u)^-(m + 1 - qd) (d + u)^-qd du`` for ``c >= d`` (``-inf`` at y = inf).

    The closed form ``(c + y)^-m / m * 2F1(m, qd; m + 1; z)``, ``z = (c - d) / (c + y)``, is
    evaluated through Euler's transformation ``2F1(m, qd; m + 1; z) = (1 - z)^(1 - qd)
    2F1(1, m + 1 - qd; m + 1; z)``, whose series has terms below ``z^k``: no overflow when
    ``qd = r + x`` is large. scipy's failures at integer ``c - a - b`` are guarded by
    :func:`~churnlab.models._base.hyp2f1_safe`, with the direct series as a last resort.
    """
    m, qd, c, d, y = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (m, qd, c, d, y)))
    infinite = np.isinf(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(infinite, 0.0, (c - d) / (c + y))
        pc = m + 1.0 - qd
        g = hyp2f1_safe(1.0, pc, m + 1.0, z)
        still = ~np.isfinite(g) | (g <= 0)
        if np.any(still):
            g[still] = _euler_series(pc[still], m[still], z[still])[0]
        log_f = (1.0 - qd) * np.log1p(-z) + np.log(g)
        value = -m * np.log(c + y) - np.log(m) + log_f
    return np.where(infinite, -np.inf, value)


def _series_derivatives(m: np.ndarray, qd: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """``d log F / dm`` and ``d log F / dqd`` of ``F = 2F1(m, qd; m + 1; z)``.

    Term-by-term differentiation of the Euler-transformed series ``F = (1 - z)^(1 - qd) G``
    (see :func:`_euler_series`), with ``pc = m + 1 - qd``. For ``z > 0.9`` the series
    converges slowly (``z^k``), so there the parameter derivatives of the exactly evaluated
    ``log G`` are taken by central differences (an O(h^2) derivative of a special function;
    the likelihood gradient itself stays analytic).
    """
    d_m, d_q = np.empty_like(z), np.empty_like(z)
    near = z > 0.9
    far = ~near
    if np.any(far):
        g_sum, dm_sum, dq_sum = _euler_series(m[far] + 1.0 - qd[far], m[far], z[far])
        d_m[far] = dm_sum / g_sum
        d_q[far] = -dq_sum / g_sum - np.log1p(-z[far])
    if np.any(near):
        mm, qq, zz = m[near], qd[near], z[near]

        def log_g(m_: np.ndarray, q_: np.ndarray) -> np.ndarray:
            return np.log(hyp2f1_safe(1.0, m_ + 1.0 - q_, m_ + 1.0, zz))

        hm, hq = 1e-5 * np.maximum(1.0, mm), 1e-5 * np.maximum(1.0, qq)
        d_m[near] = (log_g(mm + hm, qq) - log_g(mm - hm, qq)) / (2 * hm)
        d_q[near] = (log_g(mm, qq + hq) - log_g(mm, qq - hq)) / (2 * hq) - np.log1p(-zz)
    return d_m, d_q


def _slow_rows(alpha: np.ndarray, beta: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Rows where the hypergeometric series is slow: ``|alpha - beta| / (max + lo) > 0.9``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(alpha - beta) / (np.maximum(alpha, beta) + lo) > 0.9


def _integral_terms(
    p: Any, q: Any, alpha: Any, beta: Any, lo: Any, hi: Any, *, derivatives: bool = False
) -> tuple[np.ndarray, ...]:
    """``log I``, ``I = int_lo^hi (alpha + y)^-p (beta + y)^-q dy``, row by row the stable way.

    Rows where the hypergeometric closed form converges fast (``z <= 0.9``) use it
    (:func:`_log_integral_hyp`); the others, and any row where it is not finite, use the
    bounded-time quadrature :func:`~churnlab.models._special.pareto_integral_quadrature`.
    With ``derivatives=True`` also return ``d log I / dp``, ``d log I / dq``,
    ``I(p + 1, q) / I`` and ``I(p, q + 1) / I``.
    """
    p, q, alpha, beta, lo, hi = (
        np.asarray(v, dtype=float) for v in np.broadcast_arrays(p, q, alpha, beta, lo, hi)
    )
    shape = p.shape
    p, q, alpha, beta, lo, hi = (v.ravel() for v in (p, q, alpha, beta, lo, hi))
    n_out = 5 if derivatives else 1
    out = [np.full(p.size, np.nan) for _ in range(n_out)]
    slow = _slow_rows(alpha, beta, lo)
    fast = np.flatnonzero(~slow)
    for branch in (alpha >= beta, alpha < beta):
        rows = fast[branch[fast]]
        if rows.size == 0:
            continue
        args = (p[rows], q[rows], alpha[rows], beta[rows], lo[rows], hi[rows])
        values = _log_integral_hyp(*args, derivatives=derivatives)
        if derivatives:
            log_i = values[0]
            with np.errstate(invalid="ignore", over="ignore"):
                ratio_a = np.exp(_log_integral_hyp(args[0] + 1, *args[1:])[0] - log_i)
                ratio_b = np.exp(_log_integral_hyp(args[0], args[1] + 1, *args[2:])[0] - log_i)
            values = (*values, ratio_a, ratio_b)
        for j in range(n_out):
            out[j][rows] = values[j]
    with np.errstate(invalid="ignore"):
        empty = hi <= lo
        redo = np.flatnonzero(~empty & ~np.all([np.isfinite(v) for v in out], axis=0))
    if redo.size:
        values = pareto_integral_quadrature(
            p[redo], q[redo], alpha[redo], beta[redo], lo[redo], hi[redo]
        )
        picked = values if derivatives else values[:1]
        for j in range(n_out):
            out[j][redo] = picked[j]
    if np.any(empty):
        out[0][empty] = -np.inf
        for j in range(1, n_out):
            out[j][empty] = 0.0
    return tuple(v.reshape(shape) for v in out)


def _log_integral(
    p: Any, q: Any, alpha: Any, beta: Any, lo: Any, hi: Any, *, derivatives: bool = False
) -> tuple[np.ndarray, ...]:
    """``log I`` (and with ``derivatives``, ``d log I / dp``, ``d log I / dq``); stable rows."""
    values = _integral_terms(p, q, alpha, beta, lo, hi, derivatives=derivatives)
    return values[:3] if derivatives else values


def _log_integral_hyp(
    p: Any, q: Any, alpha: Any, beta: Any, lo: Any, hi: Any, *, derivatives: bool = False
) -> tuple[np.ndarray, ...]:
    """``log I`` with ``I = int_lo^hi (alpha + y)^-p (beta + y)^-q dy`` (needs ``p + q > 1``).

    With ``derivatives=True`` also return ``d log I / dp`` and ``d log I / dq``.
    """
    alpha_is_max = bool(np.all(np.asarray(alpha) >= np.asarray(beta)))
    c, d, qd = (alpha, beta, q) if alpha_is_max else (beta, alpha, p)
    m = p + q - 1
    log_lo = _log_phi(m, qd, c, d, lo)
    log_hi = _log_phi(m, qd, c, d, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.exp(log_hi - log_lo)
        log_i = log_lo + np.log(-np.expm1(log_hi - log_lo))
    if not derivatives:
        return (log_i,)
    shape = np.broadcast(m, qd, c, d, lo, hi).shape

    def grads(y: Any) -> tuple[np.ndarray, np.ndarray]:
        yy = np.broadcast_to(y, shape).astype(float)
        finite = np.isfinite(yy)
        z = np.where(finite, (c - d) / (c + np.where(finite, yy, 0.0)), 0.0)
        mm = np.broadcast_to(m, shape).astype(float)
        gm, gq = _series_derivatives(mm, np.broadcast_to(qd, shape).astype(float), z)
        return gm - 1.0 / mm - np.log(c + np.where(finite, yy, 0.0)), gq

    gm_lo, gq_lo = grads(lo)
    gm_hi, gq_hi = grads(hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        one_minus = 1.0 - rho
        dm = (gm_lo - rho * gm_hi) / one_minus
        dqd = (gq_lo - rho * gq_hi) / one_minus
    # m = p + q - 1 and qd is q (alpha >= beta) or p (alpha < beta).
    if alpha_is_max:
        return log_i, dm, dm + dqd
    return log_i, dm + dqd, dm
