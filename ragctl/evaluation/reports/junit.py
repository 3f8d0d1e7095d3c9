"""JUnit XML (junitparser): one testcase per threshold and per baseline comparison, so a CI system shows a
failed gate like a failed test."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragctl.evaluation.result import EvalResult


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def write(result: EvalResult, path: Path) -> None:
    from junitparser import Failure, JUnitXml, TestCase, TestSuite

    thresholds = TestSuite("ragctl.thresholds")
    for gate in result.gates:
        case = TestCase(f"{gate.metric} {gate.condition}", classname="ragctl.evaluate.thresholds")
        case.system_out = f"{gate.metric} = {fmt(gate.value)} (threshold {gate.condition}) on {result.model_uri}"
        if not gate.passed:
            case.result = [Failure(f"{gate.metric} = {fmt(gate.value)}, needs {gate.condition}", "threshold")]
        thresholds.add_testcase(case)
    xml = JUnitXml("ragctl evaluate")
    xml.add_testsuite(thresholds)
    if result.comparisons:
        suite = TestSuite("ragctl.baseline")
        for c in result.comparisons:
            case = TestCase(f"{c.metric} vs baseline", classname="ragctl.evaluate.baseline")
            text = (
                f"{c.metric}: {fmt(c.baseline)} -> {fmt(c.candidate)} (delta {c.delta:+.4g}, interval "
                f"[{c.low:+.4g}, {c.high:+.4g}], {c.method}"
                + (f", p = {c.p_value:.3g}" if c.p_value is not None else "")
                + f", {c.questions} paired questions)"
            )
            case.system_out = text
            if c.regression:
                case.result = [Failure(f"significant regression: {text}", "regression")]
            suite.add_testcase(case)
        xml.add_testsuite(suite)
    xml.write(str(path), pretty=True)
