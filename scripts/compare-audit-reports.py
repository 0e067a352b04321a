#!/usr/bin/env python3
"""Compares two folders of audit reports (`audit --out DIR/NAME.json`, made by two builds on the same models).

Everything but the timings (seconds, seconds_by_stage) and format_version must be identical: candidates, scores,
verdicts, floating-point values bit for bit. Prints one line per report and exits 1 when any differs.
usage: scripts/compare-audit-reports.py BEFORE_DIR AFTER_DIR
"""
import json
import os
import sys

IGNORED = ("seconds", "seconds_by_stage", "format_version")


def load(path):
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    return {key: value for key, value in report.items() if key not in IGNORED}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    before, after = sys.argv[1], sys.argv[2]
    names = sorted(name for name in os.listdir(before) if name.endswith(".json"))
    missing = [name for name in names if not os.path.exists(os.path.join(after, name))]
    differing = 0
    for name in names:
        if name in missing:
            print(f"{name}: missing from {after}")
            continue
        old, new = load(os.path.join(before, name)), load(os.path.join(after, name))
        if old == new:
            first = old["candidates"][0]["trigger"] if old.get("candidates") else "none"
            print(f"{name}: identical (verdict {old['verdict']}, target {old.get('target_label')}, first candidate '{first}')")
        else:
            differing += 1
            keys = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
            print(f"{name}: differs in {', '.join(keys)}")
    print(f"{len(names) - differing - len(missing)} of {len(names)} reports identical")
    sys.exit(1 if differing or missing or not names else 0)


if __name__ == "__main__":
    main()
