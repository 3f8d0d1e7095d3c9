"""One self-contained HTML page (plotly's JavaScript inlined, no network): each metric against its
threshold, baseline deltas with their intervals, the per-question score distribution, and the worst
questions with their retrieved sources and answers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragctl.evaluation.reports import as_dict

if TYPE_CHECKING:
    from ragctl.evaluation.result import EvalResult

DISTRIBUTION = ("token_f1", "rouge_l", "semantic_similarity", "mrr@", "ndcg@")

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ragctl evaluate: {{ verdict }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 .pass { color: #1a7f37; } h1 .fail { color: #cf222e; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
td, th { border: 1px solid #ddd; padding: 0.3rem 0.6rem; vertical-align: top; text-align: left; }
th { background: #f6f8fa; } .bad { color: #cf222e; font-weight: 600; } .muted { color: #666; }
</style></head><body>
<h1>ragctl evaluate: <span class="{{ 'pass' if passed else 'fail' }}">{{ verdict }}</span></h1>
<p><code>{{ r.model_uri }}</code> on <code>{{ r.dataset }}</code>: {{ r.questions }} questions{% if r.invalid %},
{{ r.invalid|length }} invalid items not scored{% endif %}. MLflow run <code>{{ r.run_id }}</code>.</p>
<h2>Thresholds</h2>
<table><tr><th>metric</th><th>value</th><th>threshold</th><th></th></tr>
{% for g in r.gates %}<tr><td>{{ g.metric }}</td><td>{{ "%.4g"|format(g.value) if g.value is not none else "n/a" }}</td>
<td>{{ g.condition }}</td><td class="{{ '' if g.passed else 'bad' }}">{{ 'pass' if g.passed else 'FAIL' }}</td></tr>{% endfor %}
</table>
<div id="plots">{{ plots|safe }}</div>
{% if r.comparisons %}<h2>Against the baseline</h2>
<p class="muted">{{ r.baseline.model_uri }} (run {{ r.baseline.run_id }}{{ ', reused' if r.baseline.reused }})</p>
<table><tr><th>metric</th><th>baseline</th><th>candidate</th><th>delta</th><th>interval</th><th>test</th><th></th></tr>
{% for c in r.comparisons %}<tr><td>{{ c.metric }}</td><td>{{ "%.3f"|format(c.baseline) }}</td><td>{{ "%.3f"|format(c.candidate) }}</td>
<td>{{ "%+.3f"|format(c.delta) }}</td><td>[{{ "%+.3f"|format(c.low) }}, {{ "%+.3f"|format(c.high) }}]</td>
<td>{{ c.method }}{% if c.p_value is not none %} p={{ "%.3g"|format(c.p_value) }}{% endif %}</td>
<td class="{{ 'bad' if c.regression }}">{{ 'regression' if c.regression else 'ok' }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Worst questions</h2>
<table><tr><th>question</th><th>answer</th><th>expected</th><th>retrieved (file, page, score)</th><th>scores</th></tr>
{% for w in r.worst %}<tr><td>{{ w.question }}</td><td>{{ w.answer }}</td><td>{{ w.gold|join(' / ') }}</td>
<td>{% for s in w.sources %}{{ s.file }} p{{ s.page }} ({{ s.score }})<br>{% endfor %}</td>
<td class="muted">{% for k, v in w["values"].items() if '@' not in k or k.startswith('hit_rate@') %}{{ k }}={{ "%.3g"|format(v) }} {% endfor %}</td></tr>{% endfor %}
</table>
{% if r.invalid %}<h2>Invalid items</h2><table><tr><th>where</th><th>question</th><th>why</th></tr>
{% for i in r.invalid %}<tr><td>{{ i.where }}</td><td>{{ i.question }}</td><td>{{ i.reason }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""


def _figures(result: EvalResult) -> list[Any]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figures = []
    gated = [g for g in result.gates if g.value is not None]
    if gated:
        fig = make_subplots(rows=1, cols=len(gated), subplot_titles=[g.metric for g in gated])
        for col, g in enumerate(gated, start=1):
            color = "#1a7f37" if g.passed else "#cf222e"
            fig.add_trace(go.Bar(x=[g.metric], y=[g.value], marker_color=color, name=g.metric), row=1, col=col)
            fig.add_hline(y=g.bound, line_dash="dash", annotation_text=g.condition, row=1, col=col)
        fig.update_layout(title="Each metric against its threshold", showlegend=False, height=320)
        figures.append(fig)
    if result.comparisons:
        cs = result.comparisons
        fig = go.Figure(
            go.Scatter(
                x=[c.delta for c in cs],
                y=[c.metric for c in cs],
                mode="markers",
                marker={"size": 10, "color": ["#cf222e" if c.regression else "#0969da" for c in cs]},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [c.high - c.delta for c in cs],
                    "arrayminus": [c.delta - c.low for c in cs],
                },
            )
        )
        fig.add_vline(x=0, line_dash="dot")
        fig.update_layout(title="Candidate - baseline, with the interval", height=120 + 40 * len(cs))
        figures.append(fig)
    series = {
        name: [r.values[name] for r in result.rows if name in r.values]
        for name in sorted({n for r in result.rows for n in r.values})
        if name.startswith(DISTRIBUTION)
    }
    if series:
        fig = go.Figure([go.Box(y=v, name=k, boxpoints="all", jitter=0.4) for k, v in series.items()])
        fig.update_layout(title="Per-question scores", height=380, showlegend=False)
        figures.append(fig)
    return figures


def render(result: EvalResult) -> str:
    from jinja2 import Environment

    figures = _figures(result)
    plots = "".join(
        f.to_html(full_html=False, include_plotlyjs=(i == 0), default_height=f.layout.height)
        for i, f in enumerate(figures)
    )
    data = as_dict(result)
    data["baseline"] = result.baseline
    template = Environment(autoescape=True).from_string(TEMPLATE)
    return template.render(r=data, plots=plots, passed=result.passed, verdict="passed" if result.passed else "failed")


def write(result: EvalResult, path: Path) -> None:
    path.write_text(render(result), encoding="utf-8")
