"""The claim-verification report: the model is built once from the catalogue and a
results file (:func:`reports.model.build_report`), then rendered as Markdown
(:mod:`reports.render_markdown`) or one self-contained HTML page
(:mod:`reports.render_html`). The renderers read only the model, so they cannot
disagree; neither imports this module.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from reports import render_html as _html
from reports import render_markdown as _markdown
from reports.catalogue import ROOT, Claim
from reports.formatting import distinct, headline_text  # noqa: F401 - part of this module's API
from reports.model import Report, build_report


def report_model(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                 head_sha: str | None = None, figure_dirs: Iterable[Path] = ()) -> Report:
    """The report model (see :mod:`reports.model`)."""
    return build_report(catalogue, results, head_sha=head_sha, figure_dirs=figure_dirs)


def render_markdown(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                    out_dir: Path | str | None = None, head_sha: str | None = None,
                    figure_dirs: Iterable[Path] = (), model: Report | None = None) -> str:
    """The report as Markdown; figures linked relative to ``out_dir`` (the folder
    the Markdown file is written to, default reports/out)."""
    model = model or build_report(catalogue, results, head_sha=head_sha, figure_dirs=figure_dirs)
    return _markdown.render_markdown(model, Path(out_dir) if out_dir else ROOT / "reports" / "out")


def render_html(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                head_sha: str | None = None, figure_dirs: Iterable[Path] = (),
                model: Report | None = None) -> str:
    """The report as one self-contained HTML page."""
    model = model or build_report(catalogue, results, head_sha=head_sha, figure_dirs=figure_dirs)
    return _html.render_html(model)
