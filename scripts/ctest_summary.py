#!/usr/bin/env python3
"""One line per ctest run (from its --output-junit file) for scripts/test.sh.

    ctest_summary.py TITLE JUNIT.xml

Prints "TITLE: P passed, F failed, S skipped[, D disabled]" and, below it,
every skipped test with the reason its GTEST_SKIP() gave (disabled tests,
DISABLED_*, are tools run by hand, not checks). ctest's own summary counts a
skipped test as passed ("100% tests passed"), so a skip could hide there.
A skip that gives no reason counts as a failure (tests/README.md: a test that
skips says why). Exits 1 when anything failed, 0 otherwise.
"""
import sys
import xml.etree.ElementTree as ET


def skip_reason(output: str) -> str:
    # GoogleTest prints "file:line: Skipped", the streamed reason, then
    # "[  SKIPPED ] Suite.Name".
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(": Skipped"):
            reason = []
            for rest in lines[i + 1:]:
                if rest.startswith("[  SKIPPED ]"):
                    break
                if rest.strip():
                    reason.append(rest.strip())
            return " ".join(reason)
    return ""


def main() -> int:
    title, path = sys.argv[1], sys.argv[2]
    try:
        cases = ET.parse(path).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        print(f"{title}: no results ({e})")
        return 1
    passed, failed, skipped, disabled = 0, [], [], []
    for case in cases:
        name = case.get("name", "?")
        status = case.get("status")
        output = case.findtext("system-out") or ""
        if status == "run":
            passed += 1
        elif status == "disabled":  # DISABLED_ tests: not checks, run by hand
            disabled.append(name)
        elif status == "notrun":
            reason = skip_reason(output)
            skipped.append((name, reason))
            if not reason:
                failed.append(name + " (skipped without a reason)")
        else:
            failed.append(name)
    print(f"{title}: {passed} passed, {len(failed)} failed, {len(skipped)} skipped"
          + (f", {len(disabled)} disabled" if disabled else ""))
    for name, reason in skipped:
        print(f"  skipped {name}: {reason or 'NO REASON GIVEN'}")
    for name in failed:
        print(f"  FAILED  {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
