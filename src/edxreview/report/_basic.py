"""A self-contained HTML report of a review (no external resources; all text escaped)."""

from __future__ import annotations

from pathlib import Path

import jinja2

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edxreview report</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f0f4f8}.num{text-align:right}</style></head>
<body><h1>Electrodiagnostic review</h1>
<p>Input {{ prov.input }} (sha256 {{ prov.input_sha256[:12] }}…), edxreview {{ prov.edxreview_version }},
reference limits {{ prov.reference_set }}.</p>
<h2>Results</h2>
<p>{{ summary.n_patients }} patients included, {{ summary.n_excluded }} excluded.
95 % confidence intervals: {{ summary.ci_method }}.</p>
<table><tr><th>Measure</th><th>n</th><th>of</th><th>%</th><th>95 % CI</th></tr>
{% for key, m in summary.measures.items() %}<tr><td>{{ m.label }}</td><td class="num">{{ m.n }}</td>
<td class="num">{{ m.denominator }}</td><td class="num">{{ m.percent }}</td>
<td>{{ m.ci95[0] }}–{{ m.ci95[1] }}</td></tr>{% endfor %}</table>
<h2>Patients</h2>
{% for p in patients %}<section id="p{{ loop.index }}"><h3>{{ p.patient_id }}</h3>
<p>{{ p.explanation }}</p></section>{% endfor %}
</body></html>"""


def render_basic_report(result, path: str | Path) -> Path:
    """Write a minimal report: the results table and each patient's explanation."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.from_string(_TEMPLATE).render(
        summary=result.summary, prov=result.summary["provenance"],
        patients=result.patients.to_dict("records"))
    Path(path).write_text(html, encoding="utf-8")
    return Path(path)
