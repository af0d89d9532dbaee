"""OUTPUTS/summary.html: one self-contained page for the team and managers.

Headline figures, evaluation scores per principle, themes, vouchers by month, who takes part
against the borough, and open exceptions by code. Charts are drawn by pygal as inline SVG
(no script, no network: the page opens from an email attachment or a shared drive), each with
its figures in a table beside it for screen readers and for copying.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from pipeline.files import write_atomically
from pipeline.forms.spec import all_specs
from pipeline.reports.disclosure import SECONDARY, fewer_than, suppress
from pipeline.validate.names import person_key

if TYPE_CHECKING:  # the page is drawn in another process, which needs neither (pipeline.reports.write)
    from pipeline.settings import Settings
    from pipeline.store.warehouse import Warehouse

SCORE_LABELS = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]
SCORE_COLOURS = ["#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac"]
BAR_COLOUR, BASELINE_COLOUR = "#1f4e78", "#bdbdbd"
GROUP_LABELS = {
    "ethnic_minority": "Ethnic minority (not White British)",
    "lgbtq": "LGBTQ+",
    "carer_flag": "Unpaid carers",
    "over_75": "Aged 75 or over",
    "disabled": "Disabled",
    "homeless": "Experiencing homelessness",
    "refugee_or_asylum_seeker": "Refugees or asylum seekers",
    "gypsy_roma_traveller": "Gypsy, Roma or Traveller",
    "language_barrier": "English not first language",
    "dementia": "Living with dementia",
}


@dataclass
class Chart:
    title: str
    svg: Markup
    headings: list[str]
    rows: list[list[object]]
    note: str = ""


@dataclass
class Page:
    generated: str
    headline: list[tuple[str, str]]
    charts: list[Chart] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # sections with nothing to show yet


# Charts are drawn by pygal (SVG made directly: ~10 ms a chart and ~50 ms to import, where matplotlib
# took ~0.4 s to start and ~0.35 s for the page's charts on every run)
def _chart(kind: str, rows: float, colours: tuple[str, ...] = (BAR_COLOUR,), **options):
    import pygal  # here, not at the top: only the process that draws the page needs it
    from pygal.style import Style

    style = Style(
        background="white",
        plot_background="white",
        foreground="#1b1b1b",
        foreground_strong="#1b1b1b",
        foreground_subtle="#d9d9d9",
        font_family="Arial, Helvetica, sans-serif",
        colors=colours,
        opacity="1",
        opacity_hover="1",
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=12,
        title_font_size=13,
    )
    return getattr(pygal, kind)(
        style=style,
        js=[],  # no script: the page needs nothing from a network
        disable_xml_declaration=True,  # inline in HTML
        width=800,
        height=round(max(220, 40 * rows + 110)),
        legend_at_bottom=True,
        truncate_label=-1,  # whole labels
        truncate_legend=-1,
        print_values=False,
        **options,
    )


def _svg(chart, title: str) -> Markup:
    # pygal's id is random: one from the title keeps the page the same for the same figures
    chart.uuid = _ID.sub("-", title.lower()).strip("-")
    chart.add_xml_filter(_without_script)
    svg = _GENERATOR_COMMENT.sub("", chart.render(is_unicode=True))
    return Markup(svg.replace("<title>Pygal</title>", f"<title>{escape(title)}</title>", 1))


def _without_script(svg):
    """pygal always writes its settings in a script for its tooltips: the page has no script at all."""
    for script in svg.findall(".//{*}script"):
        script.getparent().remove(script)
    return svg


_GENERATOR_COMMENT = re.compile(r"<!--.*?-->")  # pygal's, one with today's date
_ID = re.compile(r"[^a-z0-9]+")


def _ticks(top: float, whole: bool) -> list[float]:
    """Five or so round steps from 0 past `top` (1, 2 or 5 times a power of ten; whole numbers for counts)."""
    rough = max(top, 1) / 5
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    if whole:
        step = max(1, round(step))
    return [round(i * step, 10) for i in range(math.floor(top / step) + 2)]  # 0.6, not 0.6000000000000001


def _scores_chart(score_counts: list[tuple[str, int, int]]) -> Chart | None:
    principles = [(p.name, p.heading) for p in all_specs()["evaluation"].principles]
    counts = {name: [0] * 5 for name, _ in principles}
    for principle, score, n in score_counts:
        counts[principle][score - 1] = n
    if not any(sum(c) for c in counts.values()):
        return None
    chart = _chart(
        "HorizontalStackedBar",
        len(principles),
        tuple(SCORE_COLOURS),
        range=(0, 100),
        y_labels=list(range(0, 101, 20)),
        x_title="% of answers",
        legend_at_bottom_columns=5,
    )
    chart.x_labels = [title for _, title in principles][::-1]  # pygal draws the first at the bottom
    for s in range(5):
        chart.add(SCORE_LABELS[s], [100 * counts[name][s] / (sum(counts[name]) or 1) for name, _ in principles][::-1])
    rows = []
    for name, title in principles:
        total = sum(counts[name])
        mean = sum((i + 1) * n for i, n in enumerate(counts[name])) / total if total else None
        rows.append([title, *counts[name], f"{mean:.2f}" if mean is not None else "-"])
    return Chart(
        "Evaluation: how each principle was scored",
        _svg(chart, "Evaluation: how each principle was scored"),
        ["Principle", *SCORE_LABELS, "Average (1-5)"],
        rows,
        "Two statements per principle on each loaded evaluation form.",
    )


def _bar_chart(
    title: str,
    pairs: list[tuple[str, object]],
    xlabel: str,
    headings: list[str],
    note: str = "",
    money: bool = False,
    horizontal: bool = True,
) -> Chart | None:
    if not pairs:
        return None
    labels = [str(k) for k, _ in pairs]  # categories: labels such as 2025-05 stay text
    values = [float(v) for _, v in pairs]
    ticks = _ticks(max(values), whole=not money)
    if horizontal:
        chart = _chart("HorizontalBar", len(pairs), show_legend=False, x_title=xlabel, y_labels=ticks)
        chart.x_labels = labels[::-1]  # pygal draws the first at the bottom
        chart.add(xlabel, values[::-1])
    else:
        chart = _chart("Bar", 6, show_legend=False, y_title=xlabel, y_labels=ticks, x_label_rotation=45)
        chart.x_labels = labels
        chart.add(xlabel, values)
    rows = [[k, f"£{v:,.2f}" if money else v] for k, v in pairs]
    return Chart(title, _svg(chart, title), headings, rows, note)


def _participation_chart(row: tuple, baseline: dict[str, float], threshold: int) -> Chart | None:
    """row: (forms, then answered and in-group counts for each of GROUP_LABELS). Every count of
    people is suppressed (pipeline.reports.disclosure): a hidden one has neither number nor bar."""
    columns = list(GROUP_LABELS)
    if not row[0]:
        return None
    if row[0] < threshold:
        return Chart(
            "Who takes part, and who is missing",
            Markup(""),
            [],
            [],
            f"Fewer than {threshold} monitoring forms are loaded, so no figures are shown yet: with so few, a "
            f"figure could point at the people who filled them in. They appear once {threshold} or more are "
            "loaded (setting small_number_threshold).",
        )
    shares, rows = [], []
    for i, column in enumerate(columns):
        answered, in_group = row[1 + 2 * i], row[2 + 2 * i]
        # those who answered but are not in the group count too: answered less in-group gives them
        question = suppress({"in": in_group, "out": answered - in_group}, threshold)
        share = question.share("in")
        base = baseline.get(column)
        shares.append((GROUP_LABELS[column], share, base))
        gap = "" if share is None or base is None else ("under-represented" if share < base else "")
        # no answers: nothing to show; answers but no share: one of its counts is hidden
        shown_share = "-" if not answered else (SECONDARY if share is None else f"{share:.1f}%")
        rows.append(
            [
                GROUP_LABELS[column],
                question.answers["in"].text,
                question.total.text,
                shown_share,
                "-" if base is None else f"{base:.1f}%",
                gap,
            ]
        )
    chart = _chart(
        "HorizontalBar",
        len(shares) * 1.4,
        (BAR_COLOUR, BASELINE_COLOUR),
        x_title="% of people",
        y_labels=_ticks(max([s[1] or 0 for s in shares] + [s[2] or 0 for s in shares]), whole=True),
    )
    # no bar, and no bar of 0 either, where a share is hidden: its label says why
    chart.x_labels = [label if share is not None else f"{label} ({SECONDARY})" for label, share, _ in shares][::-1]
    chart.add("Taking part (monitoring forms)", [share for _, share, _ in shares][::-1])
    chart.add("Borough (baseline)", [base for _, _, base in shares][::-1])
    return Chart(
        "Who takes part, and who is missing",
        _svg(chart, "Who takes part, and who is missing"),
        ["Group", "In group", "Answered", "Taking part", "Borough", ""],
        rows,
        f"From {row[0]} loaded monitoring forms; a share counts only those who answered the question. "
        f"To protect the people who fill them in, a count of 1 to {threshold - 1} is shown as "
        f"'{fewer_than(threshold)}' with no percentage, and where it could be worked out from the other "
        f"figures, another is '{SECONDARY}' too (setting small_number_threshold). "
        "Borough figures come from the setting borough_baseline (check they are your borough's own).",
    )


@dataclass(frozen=True)
class PageData:
    """Everything the page shows, as plain values: queried in the run's process (which holds the
    warehouse), drawn in another (pipeline.reports.write)."""

    generated: str
    headline: list[tuple[str, str]]
    score_counts: list[tuple[str, int, int]]
    themes: list[tuple[str, int]]
    months: list[tuple[str, Decimal]]
    participation: tuple
    open_codes: list[tuple[str, int]]
    baseline: dict[str, float]
    # counts of people from monitoring forms below this are suppressed (pipeline.reports.disclosure)
    threshold: int = 5


def _most_first(counts) -> list[tuple[str, int]]:
    return sorted(((name, n) for name, n in counts), key=lambda c: (-c[1], c[0]))


def _open_exceptions(exceptions: int, to_correct: int, to_check: int, not_read: int) -> str:
    """'12 on 2 forms to correct, 1 form to check and 1 file not read as a form': a form whose
    exceptions are all warnings was loaded, so it is not one to correct."""

    def forms(n: int, what: str) -> str:
        return f"{n:,} {'form' if n == 1 else 'forms'} {what}"

    parts = [forms(to_correct, "to correct")]
    if to_check:
        parts.append(forms(to_check, "to check"))
    if not_read:
        parts.append("1 file not read as a form" if not_read == 1 else f"{not_read:,} files not read as forms")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{int(exceptions):,} on {listed}"


def _paid(warehouse: Warehouse, settings: Settings) -> list[tuple[str, str]]:
    """The claimed vouchers that finance's ledger shows as issued (setting ledger_path), as the
    reconciliation matches them: nothing is called paid without the ledger."""
    if not settings.ledger_path:
        return []
    from pipeline.reports.ledger import read_ledger
    from pipeline.reports.reconcile import ZERO, match
    from pipeline.reports.vouchers import claimed_lines

    ledger = read_ledger(settings.ledger_path)
    if ledger.error is not None:
        return [("Of which paid (finance ledger)", "not known: the ledger could not be read")]
    matching = match(claimed_lines(warehouse), ledger.entries, settings.ledger_date_window_days)
    paid = sum((claim.amount for claim, _ in matching.pairs), ZERO)
    return [("Of which paid (finance ledger)", f"£{paid:,.2f}")]


def page_data(warehouse: Warehouse, settings: Settings, now: dt.datetime | None = None) -> PageData:
    query = warehouse.rows
    statuses = dict(query("SELECT status, count(*) FROM submissions GROUP BY 1"))
    by_form = dict(query("SELECT form_type, count(*) FROM submissions WHERE status = 'loaded' GROUP BY 1"))
    # forms to correct (an error holds them), forms only to check (warnings: loaded all the same),
    # and apart from them files that were not read as forms (as exceptions.xlsx)
    open_exceptions = warehouse.one(
        "WITH per_form AS (SELECT e.submission_id, count(*) AS n, bool_or(e.severity = 'error') AS has_error, "
        "bool_or(s.status = 'rejected' OR s.form_type IS NULL) AS not_read "
        "FROM exceptions e JOIN submissions s USING (submission_id) WHERE e.state = 'open' GROUP BY 1) "
        "SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE has_error AND NOT not_read), "
        "count(*) FILTER (WHERE NOT has_error AND NOT not_read), count(*) FILTER (WHERE not_read) FROM per_form"
    )
    pounds = warehouse.one("SELECT coalesce(sum(amount), 0) FROM voucher_lines")[0]
    # people, not spellings: one person however her name's case, spaces or look-alike letters vary
    recipients = len(
        {person_key(name) for (name,) in query("SELECT DISTINCT name FROM voucher_lines WHERE name IS NOT NULL")}
    )
    projects = warehouse.one(
        "SELECT count(DISTINCT project_name) FROM submissions WHERE status = 'loaded' AND project_name IS NOT NULL"
    )[0]
    headline = [
        ("Forms received", f"{sum(statuses.values()):,}"),
        ("Loaded", f"{statuses.get('loaded', 0):,}"),
        ("Held (to correct)", f"{statuses.get('held', 0):,}"),
        ("Projects", f"{projects:,}"),
        (
            "Plans / evaluations / monitoring / voucher sheets",
            " / ".join(str(by_form.get(f, 0)) for f in ("planning", "evaluation", "monitoring", "voucher")),
        ),
        # claimed on the sheets: paid only as far as finance's ledger shows it (pipeline.reports.reconcile)
        ("Vouchers claimed (loaded sheets)", f"£{Decimal(pounds):,.2f} to {recipients:,} people"),
        *_paid(warehouse, settings),
        (
            "Open exceptions",
            _open_exceptions(*open_exceptions),
        ),
    ]
    local_now = now or dt.datetime.now(ZoneInfo(settings.timezone))
    return PageData(
        generated=local_now.strftime("%d/%m/%Y %H:%M"),
        headline=headline,
        score_counts=[
            tuple(r)
            for r in query(
                "SELECT principle, score, count(*) FROM evaluation_scores WHERE score IS NOT NULL GROUP BY 1, 2"
            )
        ],
        # text is ordered here, not by the database (a server sorts by its own collation)
        themes=_most_first(query("SELECT theme, count(*) FROM evaluation_themes GROUP BY 1")),
        months=[
            (month.strftime("%Y-%m"), pounds)
            for month, pounds in query(
                "SELECT date_trunc('month', date) AS month, sum(amount) FROM voucher_lines WHERE date IS NOT NULL "
                "GROUP BY 1 ORDER BY 1"
            )
        ],
        participation=tuple(
            warehouse.one(
                "SELECT count(*), "
                + ", ".join(f"count({c}), count(CASE WHEN {c} THEN 1 END)" for c in GROUP_LABELS)
                + " FROM monitoring"
            )
        ),
        open_codes=_most_first(query("SELECT code, count(*) FROM exceptions WHERE state = 'open' GROUP BY 1")),
        baseline=dict(settings.borough_baseline),
        threshold=settings.small_number_threshold,
    )


def build_page(data: PageData) -> Page:
    page = Page(data.generated, data.headline)
    sections = [
        ("Evaluation scores", lambda: _scores_chart(data.score_counts)),
        (
            "Themes",
            lambda: _bar_chart(
                "Good Life Camden themes the evaluations name",
                [(t.replace("_", " ").capitalize(), n) for t, n in data.themes],
                "evaluation forms",
                ["Theme", "Forms"],
            ),
        ),
        (
            "Vouchers by month",
            lambda: _bar_chart(
                "Vouchers claimed by month",
                data.months,
                "£",
                ["Month", "£ claimed"],
                "Loaded voucher lines by the date on the form: claimed, which is not yet paid (finance's "
                "ledger, matched in voucher_reconciliation.xlsx, says what was).",
                money=True,
                horizontal=False,
            ),
        ),
        ("Who takes part", lambda: _participation_chart(data.participation, data.baseline, data.threshold)),
        (
            "Open exceptions",
            lambda: _bar_chart(
                "Open exceptions by problem",
                data.open_codes,
                "exceptions",
                ["Problem", "Open"],
                "Details and what to ask each sender: exceptions.xlsx.",
            ),
        ),
    ]
    for name, make in sections:
        chart = make()
        if chart is None:
            page.empty.append(name)
        else:
            page.charts.append(chart)
    return page


_ENV = Environment(loader=PackageLoader("pipeline", "reports/templates"), autoescape=select_autoescape(["html"]))


def render_html(data: PageData) -> bytes:
    """The whole page (charts drawn here: pure, so it can run in another process)."""
    return _ENV.get_template("summary.html").render(page=build_page(data)).encode("utf-8")


def write_summary_page(warehouse: Warehouse, path: Path, settings: Settings) -> Path:
    write_atomically(path, render_html(page_data(warehouse, settings)))
    return path
