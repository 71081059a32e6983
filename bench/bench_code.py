"""Reading a reader's program: the seconds to read and judge a 2,000-line file (the programs of
tests/code_cases, one after another, each model under its own name), the largest paste read (the
reading's limit), and the "Your own case" page's script run after a paste (AppTest), each the
median of --repeats.

    python -m bench.bench_code [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from bench.serve import app_test
from explainer.case import diagnose_case
from explainer.code.source import MAX_CODE_CHARS
from explainer.reader import question

ROOT = Path(__file__).parents[1]
CASES = ROOT / "tests" / "code_cases"


def long_program(lines: int) -> str:
    """The set's Python 3 programs in turn, each one's names made its own, to `lines` lines."""
    programs = [path.read_text() for path in sorted(CASES.glob("*.py")) if "print " not in path.read_text()]
    text, index = [], 0
    while len(text) < lines:
        renamed = re.sub(r"\b(model|x_train|y_train|x_test|y_test)\b", rf"\1_{index}", programs[index % len(programs)])
        text += renamed.splitlines()
        index += 1
    return "\n".join(text[:lines]) + "\n"


def seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement (default: %(default)s)")
    args = parser.parse_args()
    program = long_program(2_000)
    trainings = len(diagnose_case(program, "long.py", [], []).code.judged)
    print(f"read_2000_lines_s: {seconds(lambda: diagnose_case(program, 'long.py', [], []), args.repeats):.3f}")
    print(f"read_2000_lines_trainings: {trainings}")
    largest = (program * (MAX_CODE_CHARS // len(program) + 2)).encode()
    print(f"read_largest_paste_s: {seconds(lambda: diagnose_case(largest, 'big.py', [], []), args.repeats):.3f}")

    print(f"page_after_paste_s: {statistics.median(page_after_paste() for _ in range(args.repeats)):.3f}")


def page_after_paste() -> float:
    """Seconds of the page's script run once the question's code is pasted (its first paint)."""
    test = app_test({}, timeout_s=60)
    test.switch_page("app_pages/your_case.py")
    test.run()
    test.text_area(key="code").input(question.LOADING + question.CODE)
    started = time.perf_counter()
    test.run()
    if test.exception or not test.main.header:
        raise RuntimeError(f"the page did not diagnose the pasted code: {test.exception}")
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
