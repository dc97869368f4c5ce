#!/usr/bin/env python3
"""SciPy side of the clv fit benchmarks (BENCHMARKS.md, "Customer value").

Fits every model of lifecycle/clv with scipy.optimize.minimize (BFGS on the
log-parameters, the objective the mean negative log-likelihood per customer,
gtol 1e-7 as in clm) on the same rows as the Go benchmarks, and prints for
each fit the best and worst wall time of N runs, the best process CPU time
(user + system, comparable with the Go benchmarks' cpu-ns/op on a shared
machine) and the fitted parameters, so that both sides can be checked to
agree.

The likelihoods are written from the papers, vectorised with NumPy and
scipy.special:

  BG/NBD       Fader, Hardie & Lee (2005), Marketing Science 24(2), eq. 6
  MBG/NBD      Batislam, Denizel & Filiztekin (2007), IJRM 24(3), eq. 3
  Pareto/NBD   Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD
               Model and Related Expressions", eqs. 18-20 (scipy's hyp2f1)
  Gamma-Gamma  Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary
               Value", eq. 4 (the density of the mean spend)
  BG/BB        Fader, Hardie & Shang (2010), Marketing Science 29(6), eq. 5
  sBG          Fader & Hardie (2007), J. Interactive Marketing 21(1), eqs. 1-2

BG/NBD, MBG/NBD and Gamma-Gamma get analytic gradients (as lifetimes gets
from autograd); Pareto/NBD, BG/BB and sBG use SciPy's finite-difference
gradient (scipy.special has no derivative of hyp2f1 in its parameters; clm
used central differences for these three too). Every fit works on distinct
rows with counts (np.unique), timed inside the fit as clm's collapsing is;
Gamma-Gamma evaluates its log-gamma terms once per distinct frequency.

Usage (single-threaded, as the Go side runs with -cpu 1):

  go test ./lifecycle/clv -run '^TestWriteBenchData$' -count 1 -args -clv.benchdata=/tmp/clvbench
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
      /usr/bin/python3 bench/scipy_fits.py -data /tmp/clvbench [-n 5] [-only pareto]

Requires python3-numpy and python3-scipy (Debian packages).
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from scipy.special import betaln, digamma, gammaln, hyp2f1  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "lifecycle", "clv", "testdata")
GTOL = 1e-7


def bfgs(f, x0, jac):
    """Minimises f from x0 with BFGS; returns exp(x), the total LL factor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(f, np.asarray(x0, float), jac=jac, method="BFGS",
                       options={"gtol": GTOL, "maxiter": 1000})
    return np.exp(res.x), -res.fun, res


def collapse(*cols):
    """Distinct rows of the columns, with their counts."""
    u, w = np.unique(np.column_stack(cols), axis=0, return_counts=True)
    return [u[:, i] for i in range(u.shape[1])], w.astype(float)


# ---------------------------------------------------------------- BG/NBD

def fit_bgnbd(x, tx, T):
    (x, tx, T), w = collapse(x, tx, T)
    n = w.sum()
    rep = x > 0
    xr = np.where(rep, x, 1.0)  # b+x-1 only where x > 0

    def f(th):
        r, al, a, b = np.exp(th)
        lT, lTx = np.log(al + T), np.log(al + tx)
        u1 = -(r + x) * lT
        u2 = np.where(rep, np.log(a / (b + xr - 1)) - (r + x) * lTx, -np.inf)
        lse = np.logaddexp(u1, u2)
        ll = (gammaln(r + x) - gammaln(r) + r * np.log(al)
              + betaln(a, b + x) - betaln(a, b) + lse)
        w1 = np.exp(u1 - lse)
        w2 = 1 - w1
        gr = digamma(r + x) - digamma(r) + np.log(al) - w1 * lT - w2 * lTx
        gal = r / al - (r + x) * (w1 / (al + T) + w2 / (al + tx))
        pab, pabx = digamma(a + b), digamma(a + b + x)
        ga = pab - pabx + np.where(rep, w2 / a, 0)
        gb = digamma(b + x) - pabx - digamma(b) + pab - np.where(rep, w2 / (b + xr - 1), 0)
        g = np.array([w @ gr * r, w @ gal * al, w @ ga * a, w @ gb * b])
        return -(w @ ll) / n, -g / n

    rate = (w @ x + 1) / (w @ T + 1)
    p, mll, _ = bfgs(f, [0, np.log(1 / rate), 0, 0], True)
    return p, mll * n


# ---------------------------------------------------------------- MBG/NBD

def fit_mbgnbd(x, tx, T):
    (x, tx, T), w = collapse(x, tx, T)
    n = w.sum()

    def f(th):
        r, al, a, b = np.exp(th)
        lT, lTx = np.log(al + T), np.log(al + tx)
        u1 = -(r + x) * lT
        u2 = np.log(a / (b + x)) - (r + x) * lTx
        lse = np.logaddexp(u1, u2)
        ll = (gammaln(r + x) - gammaln(r) + r * np.log(al)
              + betaln(a, b + x + 1) - betaln(a, b) + lse)
        w1 = np.exp(u1 - lse)
        w2 = 1 - w1
        gr = digamma(r + x) - digamma(r) + np.log(al) - w1 * lT - w2 * lTx
        gal = r / al - (r + x) * (w1 / (al + T) + w2 / (al + tx))
        pab, pabx = digamma(a + b), digamma(a + b + x + 1)
        ga = pab - pabx + w2 / a
        gb = digamma(b + x + 1) - pabx - digamma(b) + pab - w2 / (b + x)
        g = np.array([w @ gr * r, w @ gal * al, w @ ga * a, w @ gb * b])
        return -(w @ ll) / n, -g / n

    rate = (w @ x + 1) / (w @ T + 1)
    p, mll, _ = bfgs(f, [0, np.log(1 / rate), 0, 0], True)
    return p, mll * n


# ------------------------------------------------------------- Pareto/NBD

def pareto_ll(th, x, tx, T):
    """Per-row Pareto/NBD log-likelihood (Fader & Hardie's 2005 note)."""
    r, al, s, be = np.exp(th)
    a = r + s + x
    if al >= be:
        mx, b = al, s + 1
    else:
        mx, b = be, r + x
    d = abs(al - be)
    l1 = np.log(hyp2f1(a, b, a + 1, d / (mx + tx))) - a * np.log(mx + tx)
    l2 = np.log(hyp2f1(a, b, a + 1, d / (mx + T))) - a * np.log(mx + T)
    # A0 = e^l1 - e^l2 (l1 >= l2), in log space.
    with np.errstate(divide="ignore"):
        la0 = l1 + np.log1p(-np.exp(l2 - l1))
    p1 = -(r + x) * np.log(al + T) - s * np.log(be + T)
    p2 = np.log(s / a) + la0
    return (gammaln(r + x) - gammaln(r) + r * np.log(al) + s * np.log(be)
            + np.logaddexp(p1, p2))


def fit_paretonbd(x, tx, T):
    (x, tx, T), w = collapse(x, tx, T)
    n = w.sum()

    def f(th):
        v = -(w @ pareto_ll(th, x, tx, T)) / n
        return v if np.isfinite(v) else np.inf

    rate = (w @ x + 1) / (w @ T + 1)
    meanT = (w @ T) / n + 1
    p, mll, _ = bfgs(f, [0, np.log(1 / rate), 0, np.log(meanT)], None)
    return p, mll * n


# ------------------------------------------------------------ Gamma-Gamma

def fit_gammagamma(x, m):
    rep = x > 0
    x, m = x[rep].astype(float), m[rep]
    n = float(len(x))
    ux, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
    # Per distinct x: the count and the sum of ln m.
    slm = np.bincount(inv, weights=np.log(m))
    lux = np.log(ux)

    def f(th):
        p, q, v = np.exp(th)
        lv = np.log(v + x * m)
        px = p * ux
        # Terms per distinct x: lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + px ln x.
        ll = (cnt @ (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + px * lux)
              + (px - 1) @ slm - (p * x + q) @ lv)
        dpq = digamma(px + q)
        gp = ux @ (cnt * (dpq - digamma(px) + lux) + slm) - x @ lv
        gq = cnt @ (dpq - digamma(q) + np.log(v)) - lv.sum()
        gv = n * q / v - ((p * x + q) / (v + x * m)).sum()
        return -ll / n, -np.array([gp * p, gq * q, gv * v]) / n

    mean = m.mean()
    pr, mll, _ = bfgs(f, [0, np.log(2), np.log(mean)], True)
    return pr, mll * n


# ------------------------------------------------------------------ BG/BB

def fit_bgbb(x, tx, nn, counts=None):
    if counts is None:
        (x, tx, nn), w = collapse(x, tx, nn)
    else:
        w = counts.astype(float)
    tot = w.sum()
    k = int((nn - tx).max())
    i = np.arange(k)[None, :]
    live = i < (nn - tx)[:, None]  # terms i = 0 .. n−t_x−1
    X, TX = x[:, None], tx[:, None]

    def f(th):
        al, be, ga, de = np.exp(th)
        lab, lgd = betaln(al, be), betaln(ga, de)
        head = betaln(al + x, be + nn - x) - lab + betaln(ga, de + nn) - lgd
        tail = np.where(live, betaln(al + X, be + TX - X + i) - lab + betaln(ga + 1, de + TX + i) - lgd, -np.inf)
        ll = np.logaddexp(head, np.logaddexp.reduce(tail, axis=1))
        v = -(w @ ll) / tot
        return v if np.isfinite(v) else np.inf

    p, mll, _ = bfgs(f, [0, 0, 0, 0], None)
    return p, mll * tot


# -------------------------------------------------------------------- sBG

def fit_sbg(surv):
    surv = np.asarray(surv, float)
    n0 = surv[0]
    t = np.arange(1, len(surv))
    lost = surv[:-1] - surv[1:]

    def f(th):
        al, be = np.exp(th)
        lb = betaln(al, be)
        lp = betaln(al + 1, be + t - 1) - lb  # ln P(T = t)
        ls = betaln(al, be + t[-1]) - lb      # ln S(n)
        return -(lost @ lp + surv[-1] * ls) / n0

    c1 = min(max((surv[0] - surv[1]) / n0, 0.01), 0.99)
    p, mll, _ = bfgs(f, [np.log(2 * c1), np.log(2 * (1 - c1))], None)
    return p, mll * n0


# ------------------------------------------------------------------- main

def load(path, cols):
    a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return [a[:, i] for i in range(len(cols))]


def best_of(n, fn, *args):
    """Runs fn n times; returns the best and worst wall time, the best
    process CPU time (user + system) and the last result."""
    walls, cpus = [], []
    out = None
    for _ in range(n):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn(*args)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), max(walls), min(cpus), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-data", help="directory written by TestWriteBenchData (1M-customer sets); omit to fit only the papers' data")
    ap.add_argument("-n", type=int, default=5, help="runs per fit (best is reported)")
    ap.add_argument("-n1m", type=int, default=3, help="runs per fit on the 1M sets")
    ap.add_argument("-only", default="", help="comma-separated models to run (bgnbd,mbgnbd,pareto,gg,bgbb,sbg)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))

    cd = np.loadtxt(os.path.join(TESTDATA, "cdnow_customers_summary_with_transactions.csv"),
                    delimiter=",", skiprows=1)
    cx, ctx, cT, cz = cd[:, 1], cd[:, 2], cd[:, 3], cd[:, 4]
    don = np.loadtxt(os.path.join(TESTDATA, "donations.csv"), delimiter=",", skiprows=1)
    regular = [1000, 631, 468, 382, 326, 289, 262, 241]

    jobs = [
        ("bgnbd", "BG/NBD", "CDNOW", 2357, args.n, fit_bgnbd, (cx, ctx, cT)),
        ("mbgnbd", "MBG/NBD", "CDNOW", 2357, args.n, fit_mbgnbd, (cx, ctx, cT)),
        ("pareto", "Pareto/NBD", "CDNOW", 2357, args.n, fit_paretonbd, (cx, ctx, cT)),
        ("gg", "Gamma-Gamma", "CDNOW", 2357, args.n, fit_gammagamma, (cx, cz)),
        ("bgbb", "BG/BB", "donations", 11104, args.n, fit_bgbb, (don[:, 0], don[:, 1], don[:, 2], don[:, 3])),
        ("sbg", "sBG", "regular cohort", 1000, args.n, fit_sbg, (regular,)),
    ]
    if args.data:
        x, tx, T, z = load(os.path.join(args.data, "rfm1m.csv"), "x t_x T zbar".split())
        bx, btx, bn = load(os.path.join(args.data, "bgbb1m.csv"), "x t_x n".split())
        s1m = np.loadtxt(os.path.join(args.data, "sbg1m.csv"), skiprows=1)
        jobs += [
            ("bgnbd", "BG/NBD", "1M", len(x), args.n1m, fit_bgnbd, (x, tx, T)),
            ("mbgnbd", "MBG/NBD", "1M", len(x), args.n1m, fit_mbgnbd, (x, tx, T)),
            ("pareto", "Pareto/NBD", "1M", len(x), args.n1m, fit_paretonbd, (x, tx, T)),
            ("gg", "Gamma-Gamma", "1M", len(x), args.n1m, fit_gammagamma, (x, z)),
            ("bgbb", "BG/BB", "1M", len(bx), args.n1m, fit_bgbb, (bx, btx, bn)),
            ("sbg", "sBG", "1M", int(s1m[0]), args.n1m, fit_sbg, (s1m,)),
        ]
    print(f"numpy {np.__version__}, scipy {__import__('scipy').__version__}, "
          f"threads OMP={os.environ['OMP_NUM_THREADS']} OPENBLAS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'fit':<12} {'data':<15} {'customers':>9}  {'wall best':>10} {'worst':>10} {'CPU best':>10}  parameters, LL")
    for key, name, data, cust, runs, fn, fargs in jobs:
        if only and key not in only:
            continue
        best, worst, cpu, (p, ll) = best_of(runs, fn, *fargs)
        ps = " ".join(f"{v:.6g}" for v in p)
        print(f"{name:<12} {data:<15} {cust:>9}  {best*1e3:8.2f}ms {worst*1e3:8.2f}ms {cpu*1e3:8.2f}ms  {ps}  LL={ll:.4f}", flush=True)


if __name__ == "__main__":
    main()
