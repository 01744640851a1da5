#!/usr/bin/env python3
"""
test/calib/metrics.py -- the calibration report of the spoof scorer.
Python 3 standard library only.

Input: export.sql CSV files (check-in fixes with stored score, band,
reasons and labels) of the held-out seed and of the shifted world, the
fitted model (fit.py's JSON) and the built-in defaults.  Evaluation days
only.  Reported, on the held-out seed, over every attack type except the
hooked phone (which is reported on its own):

  PR-AUC (average precision, tied scores taken together) and ROC-AUC
  (Mann-Whitney with mid-ranks for ties), on the stored integer score
  (the acceptance figures) and on the log-odds behind it (prior plus the
  reasons' points: the same ranking without the rounding to 0..100);
  recall per attack type and false-positive rate at the red threshold
  (band red, as stored), the FPR per hard negative;
  95 % bootstrap intervals: workers resampled with replacement (seeded),
  because check-ins of one worker are not independent;
  which reason codes fire on which label; the hooked phone: its recall,
  the codes that still fire on it and the evidence outside the scorecard
  (export.sql's diag_* columns); a visit-level view (the highest score
  from the check-in to 30 minutes after it); and, for comparison, the
  built-in default model, rescored offline from the same reasons (which
  signals fire does not depend on the points).

With --check it exits 1 when an acceptance figure of the held-out seed
fails.
"""
import argparse
import csv
import json
import math
import random
import sys

ACCEPT_RECALL = {"static_mock": 0.95, "teleport": 0.95, "replay": 0.95, "emulator": 0.95, "buddy": 0.95,
                 "joystick_mock": 0.80}
ATTACKS = ["static_mock", "joystick_mock", "teleport", "replay", "emulator", "buddy", "hooked_replay"]
HOOKED = "hooked_replay"
LN2 = math.log(2.0)


def load(path):
    """Stored, evaluation-day check-ins of one export file."""
    csv.field_size_limit(sys.maxsize)
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["split"] != "eval":
                continue
            r["y"] = r["is_attack"] == "1"
            r["stored_ok"] = r["stored"] == "t" and r["score"] != ""
            r["codes"] = [x["code"] for x in json.loads(r["reasons"])] if r["reasons"] else []
            r["pts"] = json.loads(r["reasons"]) if r["reasons"] else []
            rows.append(r)
    return rows


def score_of(lo):
    """fieldops' log-odds -> 0..100 mapping (spoof_core.c)."""
    if lo > 40:
        return 100
    if lo < -40:
        return 0
    return max(0, min(100, int(math.floor(100.0 / (1.0 + math.exp(-lo)) + 0.5))))


def rescore(r, model):
    """(log-odds, score, band) of a check-in under another model, from the
    codes that fired and the speed of an implausible_speed reason."""
    pts = 0.0
    hard = False
    for rs in r["pts"]:
        c = rs["code"]
        pts += float(model["weights"].get(c, 0.0))
        if c == "implausible_speed" and rs.get("speed_mps") is not None \
                and rs["speed_mps"] > model.get("impossible_speed_mps", 250.0):
            pts += float(model.get("impossible_extra_points", 30.0))
        if c in model.get("hard", []):
            hard = True
    lo = float(model["prior_log_odds"]) + pts * LN2 / 10.0
    sc = score_of(lo)
    band = "red" if hard or sc >= model["red_score"] else ("amber" if sc >= model["amber_score"] else "green")
    return lo, sc, band


def stored_logodds(r, prior):
    """The log-odds behind a stored score: the prior plus the reasons' points."""
    return prior + sum(float(x["points"]) for x in r["pts"]) * LN2 / 10.0


def roc_auc(pos, neg):
    """ROC-AUC by the Mann-Whitney statistic with mid-ranks (ties count
    one half).  pos/neg: lists of (score, weight)."""
    P = sum(w for _s, w in pos)
    N = sum(w for _s, w in neg)
    if P == 0 or N == 0:
        return float("nan")
    allv = sorted([(s, w, 1) for s, w in pos] + [(s, w, 0) for s, w in neg], key=lambda t: t[0])
    # for each distinct score: negatives below count fully, ties half
    auc, neg_below, i = 0.0, 0.0, 0
    while i < len(allv):
        j = i
        pw = nw = 0.0
        while j < len(allv) and allv[j][0] == allv[i][0]:
            if allv[j][2]:
                pw += allv[j][1]
            else:
                nw += allv[j][1]
            j += 1
        auc += pw * (neg_below + 0.5 * nw)
        neg_below += nw
        i = j
    return auc / (P * N)


def avg_precision(pos, neg):
    """Average precision: sum over distinct thresholds (high to low) of
    precision times the recall gained there; tied scores enter together."""
    P = sum(w for _s, w in pos)
    if P == 0:
        return float("nan")
    allv = sorted([(s, w, 1) for s, w in pos] + [(s, w, 0) for s, w in neg], key=lambda t: -t[0])
    ap, tp, fp, i = 0.0, 0.0, 0.0, 0
    while i < len(allv):
        j = i
        dtp = dfp = 0.0
        while j < len(allv) and allv[j][0] == allv[i][0]:
            if allv[j][2]:
                dtp += allv[j][1]
            else:
                dfp += allv[j][1]
            j += 1
        tp += dtp
        fp += dfp
        if dtp:
            ap += (tp / (tp + fp)) * (dtp / P)
        i = j
    return ap


def figures(rows, wts, key):
    """Every figure of the report for one weighting of the rows (a
    bootstrap replicate): wts[i] is how often row i was drawn."""
    main = [(r, w) for r, w in zip(rows, wts) if w and r["label"] != HOOKED]
    pos = [(key(r), w) for r, w in main if r["y"]]
    neg = [(key(r), w) for r, w in main if not r["y"]]
    out = {"pr_auc": avg_precision(pos, neg), "roc_auc": roc_auc(pos, neg)}
    nneg = sum(w for r, w in main if not r["y"])
    out["fpr_red"] = sum(w for r, w in main if not r["y"] and r["band"] == "red") / nneg if nneg else float("nan")
    out["fpr_amber"] = sum(w for r, w in main if not r["y"] and r["band"] in ("red", "amber")) / nneg if nneg else float("nan")
    npos = sum(w for r, w in main if r["y"])
    out["recall_red"] = sum(w for r, w in main if r["y"] and r["band"] == "red") / npos if npos else float("nan")
    labels = sorted({r["label"] for r in rows})
    for lab in labels:
        sel = [(r, w) for r, w in zip(rows, wts) if w and r["label"] == lab]
        n = sum(w for _r, w in sel)
        out["red:" + lab] = sum(w for r, w in sel if r["band"] == "red") / n if n else float("nan")
        out["amber+:" + lab] = sum(w for r, w in sel if r["band"] in ("red", "amber")) / n if n else float("nan")
    return out


def bootstrap(rows, key, reps, seed):
    """Point figures and percentile 95 % intervals, resampling workers."""
    point = figures(rows, [1] * len(rows), key)
    workers = sorted({r["worker_ref"] for r in rows})
    idx = {w: [i for i, r in enumerate(rows) if r["worker_ref"] == w] for w in workers}
    rng = random.Random(seed)
    samples = {k: [] for k in point}
    for _ in range(reps):
        wts = [0] * len(rows)
        for w in (rng.choice(workers) for _ in workers):
            for i in idx[w]:
                wts[i] += 1
        f = figures(rows, wts, key)
        for k, v in f.items():
            if not math.isnan(v):
                samples[k].append(v)
    ci = {}
    for k, vs in samples.items():
        vs.sort()
        ci[k] = (vs[int(0.025 * (len(vs) - 1))], vs[int(0.975 * (len(vs) - 1))]) if vs else (float("nan"),) * 2
    return point, ci


def pct(v):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.1f %%" % (100 * v)


def pct2(v):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.2f %%" % (100 * v)


def ci_txt(ci, fmt):
    return "[%s, %s]" % (fmt(ci[0]), fmt(ci[1]))


def num(v):
    return "n/a" if math.isnan(v) else "%.3f" % v


def section(title, rows, model, defaults, reps, seed, lines, accept=False):
    """One world's report: headline figures, per attack, per hard
    negative, signal table, hooked phone, visit level, default model."""
    ok = [r for r in rows if r["stored_ok"]]
    missing = len(rows) - len(ok)
    prior = float(model["prior_log_odds"])
    labels = sorted({r["label"] for r in ok})
    atk = [l for l in ATTACKS if l in labels]
    negs = [l for l in labels if l not in ATTACKS]
    n_main = sum(1 for r in ok if r["label"] != HOOKED)
    n_att = sum(1 for r in ok if r["y"] and r["label"] != HOOKED)
    lines += ["## " + title, "",
              "Check-ins on evaluation days: %d scored (%d not stored), %d workers; without the hooked phone %d, "
              "of which %d attacks (prevalence %.2f %%). Model in force: %s."
              % (len(ok), missing, len({r['worker_ref'] for r in ok}), n_main, n_att, 100.0 * n_att / max(1, n_main),
                 ", ".join(sorted({r["model_version"] for r in ok}))), ""]
    mism = sum(1 for r in ok if score_of(stored_logodds(r, prior)) != int(r["score"]))
    if mism:
        lines += ["(%d stored scores differ from the prior plus the reasons' points: the stored model is not the "
                  "fitted one, or the core adds points the reasons do not show.)" % mism, ""]
    p_s, ci_s = bootstrap(ok, lambda r: int(r["score"]), reps, seed)
    p_l, ci_l = bootstrap(ok, lambda r: stored_logodds(r, prior), max(1, reps // 4), seed + 1)
    lines += ["| figure (all attacks but the hooked phone) | value | 95 % CI (workers resampled) |", "|---|---|---|",
              "| PR-AUC on the score | %s | %s |" % (num(p_s["pr_auc"]), ci_txt(ci_s["pr_auc"], num)),
              "| ROC-AUC on the score | %s | %s |" % (num(p_s["roc_auc"]), ci_txt(ci_s["roc_auc"], num)),
              "| PR-AUC on the log-odds | %s | %s |" % (num(p_l["pr_auc"]), ci_txt(ci_l["pr_auc"], num)),
              "| ROC-AUC on the log-odds | %s | %s |" % (num(p_l["roc_auc"]), ci_txt(ci_l["roc_auc"], num)),
              "| recall at red | %s | %s |" % (pct(p_s["recall_red"]), ci_txt(ci_s["recall_red"], pct)),
              "| false-positive rate at red (genuine + hard negatives) | %s | %s |"
              % (pct2(p_s["fpr_red"]), ci_txt(ci_s["fpr_red"], pct2)),
              "| false-positive rate at amber or red | %s | %s |" % (pct2(p_s["fpr_amber"]), ci_txt(ci_s["fpr_amber"], pct2)),
              ""]
    lines += ["| attack | n | recall at red | 95 % CI | amber or red | visit-level red (30 min) |", "|---|---|---|---|---|---|"]
    for lab in atk:
        sel = [r for r in ok if r["label"] == lab]
        vis = sum(1 for r in sel if r["visit_max_score"] and int(r["visit_max_score"]) >= model["red_score"]) / len(sel)
        lines.append("| %s%s | %d | %s | %s | %s | %s |" % (lab, " (reported separately)" if lab == HOOKED else "", len(sel),
                                                         pct(p_s["red:" + lab]), ci_txt(ci_s["red:" + lab], pct),
                                                         pct(p_s["amber+:" + lab]), pct(vis)))
    lines += ["", "| genuine / hard negative | n | red (FPR) | 95 % CI | amber or red |", "|---|---|---|---|---|"]
    for lab in negs:
        n = sum(1 for r in ok if r["label"] == lab)
        lines.append("| %s | %d | %s | %s | %s |" % (lab, n, pct2(p_s["red:" + lab]), ci_txt(ci_s["red:" + lab], pct2),
                                                     pct2(p_s["amber+:" + lab])))
    # which codes fire on what
    lines += ["", "Reason codes that fire at the check-in fix (share of the label's check-ins):", "",
              "| label | n | codes |", "|---|---|---|"]
    for lab in atk + negs:
        sel = [r for r in ok if r["label"] == lab]
        cnt = {}
        for r in sel:
            for c in set(r["codes"]):
                cnt[c] = cnt.get(c, 0) + 1
        txt = ", ".join("%s %d%%" % (c, round(100.0 * k / len(sel))) for c, k in sorted(cnt.items(), key=lambda kv: -kv[1]))
        lines.append("| %s | %d | %s |" % (lab, len(sel), txt or "(none)"))
    # the hooked phone
    hk = [r for r in ok if r["label"] == HOOKED]
    if hk:
        lines += ["", "### The hooked phone (replays the site's recorded Wi-Fi and cells)", ""]
        red = sum(1 for r in hk if r["band"] == "red")
        lines.append("%d check-ins; red %s, amber or red %s. By variant:" % (
            len(hk), pct(red / len(hk)), pct(sum(1 for r in hk if r["band"] != "green") / len(hk))))
        lines.append("")
        for var in sorted({r["variant"] for r in hk}):
            sel = [r for r in hk if r["variant"] == var]
            cnt = {}
            for r in sel:
                for c in set(r["codes"]):
                    cnt[c] = cnt.get(c, 0) + 1
            lines.append("- %s (%d): red %s; codes: %s" % (var or "-", len(sel), pct(sum(1 for r in sel if r["band"] == "red") / len(sel)),
                                                          ", ".join("%s %d%%" % (c, round(100.0 * k / len(sel))) for c, k in
                                                                    sorted(cnt.items(), key=lambda kv: -kv[1])) or "none"))
        lines += ["", "Evidence outside the scorecard (export.sql), hooked phone vs genuine check-ins:", "",
                  "| evidence | hooked phone | genuine | all attacks | all hard negatives |", "|---|---|---|---|---|"]
        gen = [r for r in ok if r["label"] == "genuine"]
        hn = [r for r in ok if not r["y"] and r["label"] != "genuine"]
        al = [r for r in ok if r["y"]]
        for k, name in (("diag_ip_offhours", "client IP also used by the worker before 08:00 / after 19:00 on 2+ days"),
                        ("diag_scan_seen", "the same scan (APs and RSSIs) seen with another fix, scan times > 60 s apart"),
                        ("diag_two_places", "another device of the worker > 1 km away within 10 min")):
            def rate(sel):
                return pct(sum(1 for r in sel if r[k] == "t") / len(sel)) if sel else "n/a"
            lines.append("| %s | %s | %s | %s | %s |" % (name, rate(hk), rate(gen), rate(al), rate(hn)))
    # the default model on the same reasons
    dm = dict(defaults)
    pos = [(rescore(r, dm)[0], 1) for r in ok if r["y"] and r["label"] != HOOKED]
    neg = [(rescore(r, dm)[0], 1) for r in ok if not r["y"]]
    dred_neg = sum(1 for r in ok if not r["y"] and rescore(r, dm)[2] == "red")
    dred_pos = sum(1 for r in ok if r["y"] and r["label"] != HOOKED and rescore(r, dm)[2] == "red")
    lines += ["", "Built-in default model on the same reasons (offline): PR-AUC %s, ROC-AUC %s (log-odds), recall at red %s, "
              "FPR at red %s." % (num(avg_precision(pos, neg)), num(roc_auc(pos, neg)), pct(dred_pos / max(1, len(pos))),
                                   pct2(dred_neg / max(1, len(neg)))), ""]
    checks = []
    if accept:
        checks = [("PR-AUC >= 0.90", p_s["pr_auc"] >= 0.90, num(p_s["pr_auc"])),
                  ("ROC-AUC >= 0.97", p_s["roc_auc"] >= 0.97, num(p_s["roc_auc"])),
                  ("FPR at red <= 0.2 %", p_s["fpr_red"] <= 0.002, pct2(p_s["fpr_red"])),
                  ("prevalence 2..5 %", 0.02 <= n_att / max(1, n_main) <= 0.05, pct2(n_att / max(1, n_main)))]
        for lab, need in ACCEPT_RECALL.items():
            v = p_s.get("red:" + lab, float("nan"))
            checks.append(("recall %s >= %.2f" % (lab, need), (not math.isnan(v)) and v >= need, pct(v)))
        lines += ["### Acceptance (held-out seed, point estimates)", "", "| criterion | value | |", "|---|---|---|"]
        for name, good, val in checks:
            lines.append("| %s | %s | %s |" % (name, val, "pass" if good else "**FAIL**"))
        lines.append("")
    return checks


def main():
    ap = argparse.ArgumentParser(description="calibration report of the spoof scorer")
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--shifted")
    ap.add_argument("--model", required=True, help="fit.py's overrides JSON")
    ap.add_argument("--defaults", required=True, help="fieldops.spoof_model_defaults() JSON")
    ap.add_argument("--fit-report")
    ap.add_argument("--info", action="append", default=[], help="lines for the run's header")
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with open(args.defaults) as f:
        defaults = json.load(f)
    with open(args.model) as f:
        over = json.load(f)
    model = dict(defaults)
    model.update(over)
    lines = ["# Spoof scorer calibration report", ""] + ["- " + i for i in args.info] + [""]
    checks = section("Held-out seed", load(args.heldout), model, defaults, args.reps, args.seed, lines, accept=True)
    if args.shifted:
        section("Shifted world (another city, other densities of sites and access points)", load(args.shifted), model,
                defaults, args.reps, args.seed + 7, lines)
    if args.fit_report:
        with open(args.fit_report) as f:
            lines += [""] + [("#" + l if l.startswith("# ") else l) for l in f.read().splitlines()]
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    failed = [c for c in checks if not c[1]]
    if args.check and failed:
        sys.stderr.write("acceptance failed: %s\n" % "; ".join("%s (%s)" % (n, v) for n, _g, v in failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
