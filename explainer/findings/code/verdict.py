"""Every rule on every training of a program, and the verdict: "this puzzle" where the mechanism
applies (a cross-entropy on a sigmoid or softmax output, on TensorFlow's Keras, with inputs that
are not scaled: the loss is computed on logits that grow with the learning rate), "a sibling of
it" where another finding holds, else "none of these found". A program with several trainings
takes the gravest of theirs."""

from __future__ import annotations

import dataclasses

from explainer.code.source import Source
from explainer.code.values import Program, Training
from explainer.findings.code import output, rate, scaling
from explainer.findings.code.rule import Finding

VERDICTS = ("this_puzzle", "sibling", "none_found")  # from the gravest


@dataclasses.dataclass(frozen=True)
class Judged:
    """One training (a model compiled and fit) with every rule's finding, and its verdict."""

    training: Training
    findings: tuple[Finding, ...]
    verdict: str

    def holding(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.holds]


def judge(training: Training, program: Program, source: Source) -> Judged:
    findings = [rule(training, program, source) for rule in (*output.RULES, *scaling.RULES)]
    unscaled = next(finding for finding in findings if finding.rule == "unscaled_inputs")
    findings.append(
        rate.learning_rate_in_bounds(training, program, source, None if unscaled.holds is None else not unscaled.holds)
    )
    return Judged(training, tuple(findings), _verdict(training, program, unscaled, findings))


def is_this_puzzle(training: Training, program: Program, unscaled: Finding) -> bool:
    """The mechanism's own conditions, each read from the code."""
    output_layer, loss = training.model.output, training.loss
    return (
        unscaled.holds is True
        and program.backend in (None, "tensorflow")
        and output_layer is not None
        and output_layer.activation in output.PROBABILITIES
        and loss is not None
        and loss.name in output.CROSS_ENTROPIES
        and not loss.from_logits
    )


def _verdict(training: Training, program: Program, unscaled: Finding, findings: list[Finding]) -> str:
    if is_this_puzzle(training, program, unscaled):
        return "this_puzzle"
    return "sibling" if any(finding.holds for finding in findings) else "none_found"


@dataclasses.dataclass(frozen=True)
class CodeDiagnosis:
    """A program judged: each training's findings and verdict, the program's verdict, and what of
    the code could not be read."""

    judged: tuple[Judged, ...]
    verdict: str
    unread: tuple[str, ...]
    text: str  # the program as given: the lines the findings name

    def lines(self, numbers: tuple[int, ...]) -> str:
        """The program's lines `numbers`, each after its number."""
        lines = self.text.splitlines()
        return "\n".join(f"{number:>4}  {lines[number - 1]}" for number in numbers if 0 < number <= len(lines))

    @property
    def gravest(self) -> Judged | None:
        """The training that says the verdict (the first of the gravest)."""
        return min(self.judged, key=lambda judged: VERDICTS.index(judged.verdict), default=None)


def diagnose(program: Program, source: Source) -> CodeDiagnosis:
    judged = tuple(judge(training, program, source) for training in program.trainings)
    verdict = min((j.verdict for j in judged), key=VERDICTS.index, default="none_found")
    return CodeDiagnosis(judged, verdict, program.unread, source.text)
