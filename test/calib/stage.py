#!/usr/bin/env python3
"""
test/calib/stage.py -- turn a directory written by citygen.py into the CSV
files test/calib/load.sql reads with \\copy.  Python 3 standard library only.

  DIR/stage/setup.csv     one row: the whole setup.json as one JSON value
  DIR/stage/uploads.csv   seq, grp, at, local_day, device_uid, n, sent_at, fixes (JSON)
  DIR/stage/checkins.csv  checkins.csv as written by the generator

Uploads keep the generator's order (the order the server received them).
load.sql moves the server's clock (libfaketime) to each call's time, so a
call should be one upload -- but a call costs about 10 ms before its first
fix, so consecutive uploads are grouped into one ingest_fixes() call:
a group holds each device at most once (a device's uploads are ingested one
after the other, so a late, out-of-order upload still finds exactly the
fixes that had arrived before it), spans at most 180 s of server time (the
call runs at the group's last upload time: a fix is seen at most 3 min
"older" than it was), never crosses a local midnight (the radio map is
refreshed there) and holds at most 2000 fixes.  An upload with a check-in
is a group of its own and keeps the phone's sent_at, so the server learns
the device's clock offset there (sent_at is per call).
"""
import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sys

MAX_FIXES = 2000
MAX_SPAN_S = 180.0


def parse_at(s):
    """The upload time of a batches.jsonl line (ISO 8601 with offset)."""
    return dt.datetime.fromisoformat(s)


def main():
    ap = argparse.ArgumentParser(description="stage a citygen.py directory for load.sql")
    ap.add_argument("dir")
    args = ap.parse_args()
    src = args.dir
    out = os.path.join(src, "stage")
    os.makedirs(out, exist_ok=True)
    csv.field_size_limit(sys.maxsize)
    with open(os.path.join(src, "setup.json"), encoding="utf-8") as f:
        setup = json.load(f)
    with open(os.path.join(out, "setup.csv"), "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow([json.dumps(setup, ensure_ascii=False, separators=(",", ":"))])
    shutil.copyfile(os.path.join(src, "checkins.csv"), os.path.join(out, "checkins.csv"))
    tz8 = dt.timezone(dt.timedelta(hours=8))
    grp, n_in, devs, t0, day0, alone = 0, 0, set(), None, None, False
    n_up = n_fix = 0
    with open(os.path.join(src, "batches.jsonl"), encoding="utf-8") as f, \
            open(os.path.join(out, "uploads.csv"), "w", newline="", encoding="utf-8") as g:
        w = csv.writer(g)
        for seq, line in enumerate(f):
            u = json.loads(line)
            at = parse_at(u["at"])
            local_day = at.astimezone(tz8).date()
            uid = u["device_uid"]
            n = len(u["fixes"])
            checkin = any("customer_ref" in e for e in u["fixes"])
            if (t0 is None or alone or checkin or uid in devs or n_in + n > MAX_FIXES
                    or (at - t0).total_seconds() > MAX_SPAN_S or local_day != day0):
                if t0 is not None:
                    grp += 1
                devs, n_in, t0, day0 = set(), 0, at, local_day
            alone = checkin
            devs.add(uid)
            n_in += n
            w.writerow([seq, grp, u["at"], local_day.isoformat(), uid, n, u.get("sent_at") if checkin else "",
                        json.dumps(u["fixes"], ensure_ascii=False, separators=(",", ":"))])
            n_up += 1
            n_fix += n
    print(json.dumps({"uploads": n_up, "fixes": n_fix, "groups": grp + 1}))


if __name__ == "__main__":
    main()
