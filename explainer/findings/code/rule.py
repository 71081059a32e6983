"""What every code rule returns: a finding of its family, with the lines it rests on and its fix
as edits of the reader's own lines."""

from __future__ import annotations

import dataclasses
import re

from explainer.code.source import Source


@dataclasses.dataclass(frozen=True)
class Edit:
    """The reader's line `line` as written, and as corrected."""

    line: int
    before: str
    after: str


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rule checked on one training. holds: True (the fault is there), False (checked, it is
    not), None (not known: the code does not say). lines: 1-based, of the text as given. evidence:
    the page that shows why it matters (answer.EVIDENCE). edits: the fix, on the reader's lines."""

    family: str
    rule: str
    holds: bool | None
    lines: tuple[int, ...]
    text: str
    evidence: str = "mechanism"
    edits: tuple[Edit, ...] = ()

    @property
    def fix(self) -> str | None:
        """The edits as text: each line as written, then as corrected."""
        if not self.edits:
            return None
        return "\n".join(f"line {edit.line}: {edit.before.strip()}\n  fixed: {edit.after.strip()}" for edit in self.edits)


def lines(*numbers: int | None) -> tuple[int, ...]:
    return tuple(sorted({number for number in numbers if number}))


def edit(source: Source, line: int | None, pattern: str, replacement: str) -> tuple[Edit, ...]:
    """The reader's line `line` with the first match of `pattern` replaced; nothing when the line
    does not hold it (the fix is then said in words only)."""
    if not line:
        return ()
    before = source.line(line)
    after = re.sub(pattern, replacement, before, count=1)
    return (Edit(line, before, after),) if after != before else ()


def not_known(family: str, rule: str, what: str, *at: int | None) -> Finding:
    return Finding(family, rule, None, lines(*at), f"Not known: {what}.")
