#!/usr/bin/env python3
"""
test/calib/fit.py -- fit the spoof scorecard's points on labelled check-ins.
Python 3 standard library only.

Input: the CSV files export.sql wrote for the TRAINING seeds (check-in fixes
scored with whatever model was in force, their reasons, their labels).
Which signals fired does not depend on the points (a signal fires on its
own thresholds; its points only add up afterwards, and a signal worth 0
points is still listed), so the fit needs only the indicators

    x_j = 1 if reason code j fired on the check-in fix, else 0

(plus one for implausible_speed above the model's impossible_speed_mps,
whose extra points are their own model key) and the label is_attack.

Model: logistic regression, log-odds = b + sum_j beta_j x_j, with an L2
penalty lambda/2 * sum beta_j^2 and beta_j >= 0 (every signal means
"suspicious": a fired signal must not lower the score).  Solved by cyclic
coordinate descent with exact one-dimensional Newton steps on the distinct
feature patterns (a few hundred), projected onto beta_j >= 0.  lambda is
chosen by 5-fold cross-validation with folds by worker (the generator's
fold column), pooled over the training seeds, on held-out log-loss.

Output: a JSON object of overrides for fieldops.add_spoof_model():
    points_j = beta_j * 10 / ln 2      (+10 points double the odds)
    prior_log_odds = b - logit(training prevalence) + logit(--prior)
    red_score: the smallest score whose false-positive rate (share of
        genuine and hard-negative check-ins at or above it, or hard
        rejected) is at most --red-fpr (0.1 %) both on the training
        check-ins scored by the final model AND out of fold: each worker
        fold scored by a model fitted without it (5-fold, folds by worker).
        The in-sample rate alone over-fits: a signal that never fired on a
        training negative gets many points and looks free, and the first
        honest check-in it fires on elsewhere is red (the 2026-11-27 run:
        training FPR 0.073 %, held out 0.75 %).  Out of fold, a signal seen
        on negatives of one fold only is priced by the other folds.
    amber_score: the same for --amber-fpr (2 %), at most red_score
    hard: the default hard signals that fired on no training negative
Signals that fired fewer than --min-support times in the training data keep
their default points (the data say nothing about them); the fit report
lists them.  The report (markdown) goes to --report.
"""
import argparse
import csv
import json
import math
import sys

SIGNALS = ["os_mock", "integrity_failed", "implausible_speed", "teleport_round_trip", "frozen_position",
           "constant_accuracy", "zero_altitude", "constant_bearing_while_moving", "zero_speed_while_moving",
           "speed_mismatch", "implausible_accuracy", "no_satellites", "uniform_cn0", "wifi_far",
           "wifi_no_site_overlap", "wifi_scan_replay", "cell_far", "cell_foreign_mcc", "clock_future",
           "clock_skew_jump", "stale_fix", "same_coords_earlier_day", "shared_device", "pin_drop"]
EXTRA = "impossible_speed"          # implausible_speed above impossible_speed_mps
FEATURES = SIGNALS + [EXTRA]
LN2 = math.log(2.0)


def load_rows(paths, split="eval"):
    """Check-ins of the given split that were stored and scored."""
    rows = []
    csv.field_size_limit(sys.maxsize)
    for p in paths:
        with open(p, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["split"] != split or r["stored"] != "t" or not r["reasons"]:
                    continue
                r["_src"] = p
                rows.append(r)
    return rows


def features(reasons_json, model):
    """The indicator vector of one check-in's reasons (as a frozenset of
    feature indices), from the reason codes and, for the impossible-speed
    extra, the speed the reason reports."""
    on = set()
    for rs in json.loads(reasons_json):
        code = rs["code"]
        if code in SIGNALS:
            on.add(SIGNALS.index(code))
        if code == "implausible_speed" and rs.get("speed_mps") is not None \
                and rs["speed_mps"] > model.get("impossible_speed_mps", 250.0):
            on.add(len(SIGNALS))
    return frozenset(on)


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def fit_logistic(patterns, lam, active, iters=300, tol=1e-9):
    """L2-penalised, non-negative logistic regression on grouped data.
    patterns: list of (set of feature indices, n_pos, n_neg).  Only the
    features in `active` get a coefficient; the intercept is free.
    Coordinate descent: for each coordinate, one Newton step on the exact
    1-D objective, then projection onto beta >= 0; repeated to
    convergence (the objective is convex, so this converges)."""
    beta = {j: 0.0 for j in active}
    npos = sum(p for _s, p, _n in patterns)
    nneg = sum(n for _s, _p, n in patterns)
    b = math.log(max(npos, 0.5) / max(nneg, 0.5))
    by_feat = {j: [k for k, (s, _p, _n) in enumerate(patterns) if j in s] for j in active}
    z = [b + sum(beta[j] for j in s if j in beta) for s, _p, _n in patterns]
    for _ in range(iters):
        change = 0.0
        # intercept
        g = h = 0.0
        for k, (s, p, n) in enumerate(patterns):
            q = sigmoid(z[k])
            g += (p + n) * q - p
            h += (p + n) * q * (1 - q)
        step = g / max(h, 1e-12)
        b -= step
        z = [v - step for v in z]
        change = max(change, abs(step))
        for j in active:
            g = lam * beta[j]
            h = lam
            for k in by_feat[j]:
                s, p, n = patterns[k]
                q = sigmoid(z[k])
                g += (p + n) * q - p
                h += (p + n) * q * (1 - q)
            new = max(0.0, beta[j] - g / max(h, 1e-12))
            d = new - beta[j]
            if d:
                beta[j] = new
                for k in by_feat[j]:
                    z[k] += d
                change = max(change, abs(d))
        if change < tol:
            break
    return b, beta


def logloss(patterns, b, beta):
    """Mean negative log-likelihood of grouped data under (b, beta)."""
    tot = cnt = 0.0
    for s, p, n in patterns:
        q = min(1 - 1e-12, max(1e-12, sigmoid(b + sum(beta.get(j, 0.0) for j in s))))
        tot -= p * math.log(q) + n * math.log(1 - q)
        cnt += p + n
    return tot / max(cnt, 1)


def group(rows, feats):
    """Rows -> grouped patterns (feature set, positives, negatives)."""
    d = {}
    for r, s in zip(rows, feats):
        pn = d.setdefault(s, [0, 0])
        pn[0 if r["is_attack"] == "1" else 1] += 1
    return [(s, pn[0], pn[1]) for s, pn in d.items()]


def score_of(log_odds):
    """fieldops' mapping from log-odds to the 0..100 score (spoof_core.c)."""
    if log_odds > 40:
        return 100
    if log_odds < -40:
        return 0
    return max(0, min(100, int(math.floor(100.0 / (1.0 + math.exp(-log_odds)) + 0.5))))


def main():
    ap = argparse.ArgumentParser(description="fit the spoof scorecard's points")
    ap.add_argument("scored", nargs="+", help="export.sql CSV files of the training seeds")
    ap.add_argument("--defaults", required=True, help="JSON of fieldops.spoof_model_defaults()")
    ap.add_argument("--out", required=True, help="the overrides JSON for add_spoof_model()")
    ap.add_argument("--report", required=True, help="markdown fit report")
    ap.add_argument("--prior", type=float, default=0.02, help="base rate the score is calibrated to")
    ap.add_argument("--red-fpr", type=float, default=0.001)
    ap.add_argument("--amber-fpr", type=float, default=0.02)
    ap.add_argument("--min-support", type=int, default=5)
    ap.add_argument("--lambdas", default="0.1,0.3,1,3,10")
    args = ap.parse_args()

    with open(args.defaults) as f:
        defaults = json.load(f)
    # every signal the installed scorer has, in its order: a signal added
    # after this list was written is fitted too, not silently left at its
    # default
    for code in defaults.get("weights", {}):
        if code not in SIGNALS:
            SIGNALS.append(code)
    FEATURES[:] = SIGNALS + [EXTRA]
    rows = load_rows(args.scored)
    if not rows:
        sys.exit("fit.py: no scored evaluation check-ins in %s" % ", ".join(args.scored))
    feats = [features(r["reasons"], defaults) for r in rows]
    support = [0] * len(FEATURES)
    support_pos = [0] * len(FEATURES)
    for r, s in zip(rows, feats):
        for j in s:
            support[j] += 1
            if r["is_attack"] == "1":
                support_pos[j] += 1
    active = [j for j in range(len(FEATURES)) if support[j] >= args.min_support]
    patterns = group(rows, feats)

    # lambda by 5-fold cross-validation, folds by worker (and seed)
    lams = [float(x) for x in args.lambdas.split(",")]
    cv = {}
    for lam in lams:
        loss = 0.0
        for fold in range(5):
            tr = [(r, s) for r, s in zip(rows, feats) if int(r["fold"]) != fold]
            te = [(r, s) for r, s in zip(rows, feats) if int(r["fold"]) == fold]
            if not te or not tr:
                continue
            b, beta = fit_logistic(group([r for r, _ in tr], [s for _, s in tr]), lam, active)
            pt = group([r for r, _ in te], [s for _, s in te])
            loss += logloss(pt, b, beta) * len(te)
        cv[lam] = loss / len(rows)
    lam = min(lams, key=lambda x: (cv[x], -x))
    b, beta = fit_logistic(patterns, lam, active)

    n_pos = sum(1 for r in rows if r["is_attack"] == "1")
    n_neg = len(rows) - n_pos
    pi_t = n_pos / len(rows)
    prior = b - math.log(pi_t / (1 - pi_t)) + math.log(args.prior / (1 - args.prior))
    points = {}
    kept = []
    for j, code in enumerate(SIGNALS):
        if j in beta:
            points[code] = round(beta[j] * 10.0 / LN2, 2)
        else:
            points[code] = float(defaults["weights"][code])
            kept.append(code)
    if len(SIGNALS) in beta:
        extra = round(beta[len(SIGNALS)] * 10.0 / LN2, 2)
    else:
        extra = float(defaults.get("impossible_extra_points", 30.0))
        kept.append(EXTRA)
    for code in points:
        points[code] = min(1000.0, points[code])
    hard = [c for c in defaults.get("hard", []) if support[SIGNALS.index(c)] - support_pos[SIGNALS.index(c)] == 0]

    # thresholds on the training check-ins, scored as the C core would
    def lo_of(s):
        return prior + LN2 / 10.0 * (sum(points[SIGNALS[j]] for j in s if j < len(SIGNALS))
                                     + (extra if len(SIGNALS) in s else 0.0))
    hard_idx = {SIGNALS.index(c) for c in hard}
    scored = [(score_of(lo_of(s)), bool(s & hard_idx), r["is_attack"] == "1") for r, s in zip(rows, feats)]

    # out of fold: each worker fold scored by a model fitted on the others
    # (same lambda, same support rule, its own prior and points)
    oof = []
    for fold in range(5):
        tr = [(r, s) for r, s in zip(rows, feats) if int(r["fold"]) != fold]
        te = [(r, s) for r, s in zip(rows, feats) if int(r["fold"]) == fold]
        if not te or not tr:
            continue
        sup = [0] * len(FEATURES)
        for _r, s in tr:
            for j in s:
                sup[j] += 1
        act = [j for j in range(len(FEATURES)) if sup[j] >= args.min_support]
        fb, fbeta = fit_logistic(group([r for r, _ in tr], [s for _, s in tr]), lam, act)
        fp = sum(1 for r, _ in tr if r["is_attack"] == "1") / len(tr)
        fprior = fb - math.log(fp / (1 - fp)) + math.log(args.prior / (1 - args.prior))

        def fpoints(j):
            if j in fbeta:
                return fbeta[j] * 10.0 / LN2
            if j < len(SIGNALS):
                return float(defaults["weights"][SIGNALS[j]])
            return float(defaults.get("impossible_extra_points", 30.0))
        fhard = {SIGNALS.index(c) for c in defaults.get("hard", [])
                 if not any(SIGNALS.index(c) in s for r, s in tr if r["is_attack"] != "1")}
        for r, s in te:
            lo = fprior + LN2 / 10.0 * sum(min(1000.0, fpoints(j)) for j in s)
            oof.append((score_of(lo), bool(s & fhard), r["is_attack"] == "1"))
    n_neg_oof = sum(1 for _sc, _hd, y in oof if not y)

    def fpr_at(t, sc_list=None, nn=None):
        sc_list = scored if sc_list is None else sc_list
        nn = n_neg if nn is None else nn
        return sum(1 for sc, hd, y in sc_list if not y and (sc >= t or hd)) / max(1, nn)

    def ok(t, target):
        return fpr_at(t) <= target and fpr_at(t, oof, n_neg_oof) <= target
    red = next((t for t in range(1, 101) if ok(t, args.red_fpr)), 100)
    # a conservative margin: a signal that fired on any training negative
    # has an honest false-positive rate that ~1500 negatives cannot show to
    # be below --red-fpr (one hit is already 0.07 %, and its upper bound
    # several times that), so it must not make a check-in red on its own
    single_guard = []
    for j in range(len(FEATURES)):
        if support[j] - support_pos[j] > 0 and j < len(SIGNALS):
            s_alone = score_of(prior + LN2 / 10.0 * points[SIGNALS[j]])
            if s_alone >= red and red < 100:
                single_guard.append((SIGNALS[j], s_alone))
                red = s_alone + 1
    amber = next((t for t in range(1, 101) if ok(t, args.amber_fpr)), red)
    amber = min(amber, red)
    oof_recall = sum(1 for sc, hd, y in oof if y and (sc >= red or hd)) / max(1, sum(1 for o in oof if o[2]))
    recall_red = sum(1 for sc, hd, y in scored if y and (sc >= red or hd)) / max(1, n_pos)

    model = {"prior_log_odds": round(prior, 6), "amber_score": amber, "red_score": red,
             "impossible_extra_points": extra, "weights": points, "hard": hard}
    with open(args.out, "w") as f:
        json.dump(model, f, indent=1, sort_keys=True)

    lines = ["# Fit of the spoof scorecard", "",
             "Training check-ins (evaluation days of %d seed file(s)): %d, attacks %d (%.1f %%)."
             % (len(args.scored), len(rows), n_pos, 100.0 * pi_t),
             "L2 strength by 5-fold worker cross-validation (mean log-loss): "
             + ", ".join("%g: %.4f" % (k, v) for k, v in sorted(cv.items())) + "; chosen **%g**." % lam,
             "Prior log-odds %.3f (calibrated to a %.1f %% base rate); amber >= %d, red >= %d "
             "(training false-positive rate at red %.3f %%, recall at red %.1f %%; out of fold "
             "(5 worker folds, each scored by a model fitted without it): false-positive rate at red %.3f %%, "
             "recall at red %.1f %%; thresholds are the lowest meeting --red-fpr %.2f %% / --amber-fpr %.1f %% "
             "on both)."
             % (prior, 100 * args.prior, amber, red, 100 * fpr_at(red), 100 * recall_red,
                100 * fpr_at(red, oof, n_neg_oof), 100 * oof_recall, 100 * args.red_fpr, 100 * args.amber_fpr), "",
             "| signal | fired (attack / other) | default points | fitted points |", "|---|---|---|---|"]
    for j, code in enumerate(FEATURES):
        dflt = defaults["weights"].get(code, defaults.get("impossible_extra_points")) if code in SIGNALS \
            else defaults.get("impossible_extra_points")
        fitted = points[code] if code in SIGNALS else extra
        note = " (kept: support < %d)" % args.min_support if code in kept else ""
        lines.append("| %s | %d / %d | %g | %g%s |" % (code, support_pos[j], support[j] - support_pos[j], dflt, fitted, note))
    if single_guard:
        lines += ["", "Red raised so that no signal seen on a training negative is red on its own: %s."
                  % ", ".join("%s alone scores %d" % g for g in single_guard)]
    lines += ["", "Hard signals: %s." % (", ".join(hard) if hard else "none")]
    dropped = [c for c in defaults.get("hard", []) if c not in hard]
    if dropped:
        lines.append("Default hard signals dropped because they fired on training negatives: %s." % ", ".join(dropped))
    with open(args.report, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
