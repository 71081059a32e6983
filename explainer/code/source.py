"""A reader's program as text, parsed with Python's own `ast` and never run: a pasted or uploaded
`.py` file, or a notebook's code cells joined with newlines in order. Reading is bounded: at most
MAX_CODE_CHARS characters are read, the parser's own recursion limit stands, and the tolerance
for the code people paste (a Python 2 `print x`, notebook magics and shell lines, a line that
does not parse) is one rewrite pass and at most MAX_REPARSES more parses."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import warnings

# what is read of a program, whatever its size: parsing 1 MB held the interpreter 0.7 s, a stall
# every session on the server would share; 200,000 characters is about 5,000 lines
MAX_CODE_CHARS = 200_000
# lines that do not parse are blanked one at a time, this many at most: each parse of the largest
# paste holds the interpreter about 0.15 s
MAX_REPARSES = 3
# a line that is Python 2's print statement: `print x`, `print "a", b` (not `print(`, not `print =`)
PY2_PRINT = re.compile(r"^(\s*)print(?!\s*[(=.,\[])\s+(\S.*?)\s*,?\s*$")
# a notebook's magic or shell line: %matplotlib inline, %%time, !pip install ..., ?name
MAGIC = re.compile(r"^\s*(%|!|\?)")
# cell magics whose cell is not Python at all
FOREIGN_CELLS = ("%%bash", "%%sh", "%%html", "%%javascript", "%%js", "%%latex", "%%markdown", "%%writefile", "%%script")


class CodeUnreadable(ValueError):
    """The text is no program that can be read: the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Source:
    """A program read: its text as numbered (a notebook's code cells joined with newlines), its
    syntax tree, what could not be read, in words (lines blanked, rewrites made), and the lines
    as given and as parsed (each split once: a file names thousands of them)."""

    text: str
    tree: ast.Module
    unread: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    parsed: tuple[str, ...] = ()

    def line(self, number: int) -> str:
        """Line `number` (1-based) of the text as given."""
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def segment(self, node: ast.expr) -> str:
        """The source of `node` as parsed (its offsets count UTF-8 bytes, as the parser's do)."""
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        rows = [row.encode() for row in self.parsed[first : last + 1]]
        if not rows:
            return ""
        rows[-1] = rows[-1][: node.end_col_offset]
        rows[0] = rows[0][node.col_offset :]
        return b"\n".join(rows).decode(errors="replace")


def decode(data: str | bytes) -> str:
    """The text of an upload or a paste, cut to MAX_CODE_CHARS; CodeUnreadable if it is binary or
    not UTF-8."""
    if isinstance(data, bytes):
        data = data[: 4 * MAX_CODE_CHARS]
        if b"\x00" in data:
            raise CodeUnreadable("this is a binary file, not Python code: upload the .py file or the notebook (.ipynb)")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            if error.start < len(data) - 3:  # not just a character cut at the end
                raise CodeUnreadable("the file is not UTF-8 text: save it as UTF-8 and upload it again") from None
            data = data[: error.start].decode("utf-8-sig")
    if len(data) <= MAX_CODE_CHARS:
        return data
    return data[: data.rfind("\n", 0, MAX_CODE_CHARS) + 1 or MAX_CODE_CHARS]  # whole lines: a cut one would not parse


def notebook_code(data: str | bytes) -> str:
    """A notebook's code cells joined with newlines, in order (outputs and markdown are not read)."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise CodeUnreadable("the notebook is not JSON: upload the .ipynb file as Jupyter saved it") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if cells is None and isinstance(document, dict):  # nbformat 3 kept cells in worksheets
        cells = [cell for sheet in document.get("worksheets", []) for cell in sheet.get("cells", [])]
    if not isinstance(cells, list):
        raise CodeUnreadable("this JSON is not a Jupyter notebook: it has no cells")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", cell.get("input", ""))
            sources.append("".join(source) if isinstance(source, list) else str(source))
    if not any(source.strip() for source in sources):
        raise CodeUnreadable("the notebook has no code cells")
    return "\n".join(sources)


def program(data: str | bytes, name: str = "") -> str:
    """The program's text from a paste or an upload named `name` (a notebook by its .ipynb name,
    or by its content)."""
    text = decode(data)
    if name.lower().endswith(".ipynb") or text.lstrip().startswith('{"cells"') or text.lstrip().startswith("{\n"):
        try:
            return decode(notebook_code(text))
        except CodeUnreadable:
            if name.lower().endswith(".ipynb"):
                raise
    return text


def rewritten(text: str) -> tuple[list[str], list[str]]:
    """One pass over the lines: magics, shell lines and foreign cells blanked, Python 2 prints
    rewritten as calls; line numbers kept. Returns the lines and what was done, in words."""
    lines, done, foreign = text.splitlines(), [], False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("%%"):
            foreign = stripped.split()[0] in FOREIGN_CELLS
        if foreign or MAGIC.match(line):
            lines[index] = ""
            continue
        printed = PY2_PRINT.match(line)
        if printed and not stripped.startswith("print ("):
            lines[index] = f"{printed.group(1)}print({printed.group(2)})"
            done.append(f"line {index + 1}: Python 2's print read as a call")
    return lines, done


def parse(text: str) -> Source:
    """The program parsed as far as it can be: CodeUnreadable when nothing of it is Python."""
    if not text.strip():
        raise CodeUnreadable("there is no code to read")
    lines, unread = rewritten(text)
    for _ in range(MAX_REPARSES + 1):
        if not any(line.strip() for line in lines):
            break  # every line was left out: nothing of it is Python
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escape sequences and the like: the reader's, not ours
                tree = ast.parse("\n".join(lines))
            return Source(text, tree, tuple(unread), tuple(text.splitlines()), tuple(lines))
        except SyntaxError as error:
            if "too many nested" in str(error.msg):
                raise CodeUnreadable("the code nests too deeply for Python's own parser to read") from None
            number = error.lineno or len(lines)
            if not 0 < number <= len(lines) or not lines[number - 1].strip():
                number = max((i + 1 for i, line in enumerate(lines) if line.strip()), default=0)
            if number == 0:
                break
            unread.append(f"line {number} could not be read as Python ({error.msg}) and was left out")
            lines[number - 1] = ""
        except (RecursionError, MemoryError):
            raise CodeUnreadable("the code nests too deeply for Python's own parser to read") from None
        except ValueError as error:  # a NUL byte in the text
            raise CodeUnreadable(f"the code cannot be read: {error}") from None
    raise CodeUnreadable(
        f"this does not read as Python: more than {MAX_REPARSES} lines could not be parsed. Paste the Python program "
        "(or upload the .py file or the notebook) that defines, compiles and fits the model"
    )
