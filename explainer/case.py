"""A reader's own case: their program (read, never run) and their training logs, diagnosed
together. The code's facts fill in what the log reader would otherwise ask (the activation, the
loss, the inputs' range); where code and log disagree by the mechanism, the case says so; the
verdict is the gravest of the two, a diverging log first."""

from __future__ import annotations

import dataclasses

from explainer import gate
from explainer.code import reading, source
from explainer.code.source import CodeUnreadable
from explainer.findings.code.setup import nearest_view
from explainer.findings.code.verdict import CodeDiagnosis, diagnose
from explainer.findings.diagnosis import Known
from explainer.findings.log_report import Report, report
from explainer.findings.mechanism import PROBABILITY_LOSS_BOUND
from explainer.labels import FIX_NAMES
from explainer.reader import question
from explainer.view import View

# the case's verdicts, from the gravest: a diverging run is not this puzzle whatever the code says
VERDICTS = ("divergence", "this_puzzle", "sibling", "none_found")


@dataclasses.dataclass(frozen=True)
class Case:
    """code: the program judged (None: no code, or none readable, `code_problem` says why).
    logs: the logs read and diagnosed (None: no log given). view: the nearest view the app can
    train, with the sentences that say how it differs. disagreements: where code and logs cannot
    both be right, by the mechanism."""

    verdict: str
    code: CodeDiagnosis | None
    code_problem: str | None
    logs: Report | None
    view: View | None
    substitutions: tuple[str, ...]
    disagreements: tuple[str, ...]

    def checks(self) -> list[dict]:
        """Every check made, as the JSON states it: the code's by family, the logs' as `log`."""
        rows = [
            {
                "family": finding.family,
                "rule": finding.rule,
                "holds": finding.holds,
                "lines": list(finding.lines),
                "text": finding.text,
                "fix": finding.fix,
            }
            for judged in (self.code.judged if self.code else ())
            for finding in judged.findings
        ]
        diagnosed = self.logs.diagnosis if self.logs else None
        rows += [
            {
                "family": "log",
                "rule": finding.rule,
                "holds": finding.holds,
                "lines": [],
                "text": f"{finding.text} (rests on {finding.rests_on})",
                "fix": f"{FIX_NAMES[finding.fix]}:\n{question.fix_lines(finding.fix)}" if finding.holds and finding.fix else None,
            }
            for finding in (diagnosed.findings if diagnosed else [])
        ]
        return rows


def read_code(data: str | bytes | None, name: str = "") -> tuple[CodeDiagnosis | None, str | None, object]:
    """The program judged, or why it could not be read; and the program read (for its facts)."""
    if data is None or not (data.strip() if isinstance(data, str) else data):
        return None, None, None
    try:
        text = source.program(data, name)
        parsed = source.parse(text)
    except CodeUnreadable as error:
        return None, str(error), None
    program = reading.read(parsed)
    return diagnose(program, parsed), None, program


def known_from(code: CodeDiagnosis | None, said: Known) -> Known:
    """What the reader said, and where they did not say, what their code says (its gravest training)."""
    judged = code.gravest if code else None
    if judged is None:
        return said
    training = judged.training
    output, loss = training.model.output, training.loss
    activation = output.activation if output and output.activation in ("sigmoid", "softmax", "linear") else None
    loss_said = None
    if loss is not None and loss.name:
        crossentropy = "crossentropy" in loss.name
        loss_said = (
            "from_logits" if crossentropy and loss.from_logits else "categorical_crossentropy" if crossentropy else "other"
        )
    scaled = (training.inputs.scaled if training.inputs else None) or training.model.scaling[0]
    scaled = None if scaled == "unknown" else scaled
    inputs = scaled if scaled else ("raw" if training.inputs and training.inputs.source == "pixels" else None)
    return dataclasses.replace(
        said,
        activation=said.activation or activation,
        loss=said.loss or loss_said,
        inputs=said.inputs or inputs,
    )


def disagreements(code: CodeDiagnosis | None, program, logs: Report | None) -> list[str]:
    """Where the log's loss cannot come from the code, by the mechanism: a loss above the bound a
    cross-entropy on clipped probabilities can reach, from code whose Keras clips them."""
    if code is None or code.gravest is None or logs is None or logs.diagnosis is None:
        return []
    logits = next((f for f in logs.diagnosis.findings if f.rule == "logits_loss"), None)
    if logits is None or not logits.holds:
        return []
    training, said = code.gravest.training, []
    bound = f"{PROBABILITY_LOSS_BOUND:.2f}"
    if program.backend not in (None, "tensorflow"):
        said.append(
            f"The log reports a loss above {bound} per image, but the code runs Keras 3 on {program.backend}, which "
            "computes a cross-entropy on clipped probabilities and cannot reach it: the log comes from another setup."
        )
    output, loss = training.model.output, training.loss
    if output and output.activation == "linear" and loss and loss.name and "crossentropy" in loss.name and not loss.from_logits:
        said.append(
            f"The log reports a loss above {bound} per image, but the code's linear output has a cross-entropy without "
            "from_logits, which Keras computes on clipped probabilities: it cannot reach that loss, so the log comes "
            "from another setup."
        )
    return said


def diagnose_case(
    code: str | bytes | None, name: str, texts: list[str | bytes], rates: list[str], said: Known | None = None
) -> Case:
    judged, problem, program = read_code(code, name)
    known = known_from(judged, said or Known())
    logs = report(texts, rates, known) if any(text.strip() for text in texts if text) else None
    verdicts = [judged.verdict] if judged and judged.judged else []
    if logs and logs.diagnosis:
        verdicts.append(logs.diagnosis.verdict)
    verdict = min(verdicts, key=VERDICTS.index, default="none_found")
    view, substitutions = (None, [])
    if judged and judged.gravest:
        view, substitutions = nearest_view(judged.gravest.training, program)
        try:
            view = gate.admit(view)
        except ValueError as error:
            view, substitutions = None, [*substitutions, f"the app cannot train this view: {error}"]
    return Case(verdict, judged, problem, logs, view, tuple(substitutions), tuple(disagreements(judged, program, logs)))
