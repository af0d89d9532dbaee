"""Which of the four forms a Document is: by its title line, else by the labels it holds."""

from __future__ import annotations

from pipeline.document import Document
from pipeline.forms.labels import label_tokens, match_label
from pipeline.forms.spec import FormSpec, all_specs

TITLE_SEARCH_LINES = 20
MIN_LABELS_WITHOUT_TITLE = 3


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def _title_match(doc: Document, specs: dict[str, FormSpec]) -> str | None:
    seen = 0
    for line in doc.lines:
        for cell in line.cells:
            tokens = label_tokens(cell.text)
            if not tokens:
                continue
            seen += 1
            if len(tokens) <= 25:
                # the longest matching title wins ("Project Evaluation Template" inside a longer one)
                hits = [(len(label_tokens(t)), ft) for ft, spec in specs.items() for t in spec.titles
                        if _contains(tokens, label_tokens(t))]
                if hits:
                    return max(hits)[1]
        if seen >= TITLE_SEARCH_LINES:
            break
    return None


def _label_score(doc: Document, spec: FormSpec) -> int:
    labels: list[tuple[str, ...]] = [f.labels for f in spec.header if f.name not in ("project_name", "date")]
    labels += [s.labels for s in spec.sections]
    labels += [q.labels for q in spec.questions]
    labels += [(st,) for p in spec.principles for st in p.statements]
    labels += [c.labels for c in spec.columns]
    found = set()
    for line in doc.lines:
        for cell in line.cells:
            for i, group in enumerate(labels):
                if i not in found:
                    m = match_label(cell.text, group)
                    if m and m.exact_end:
                        found.add(i)
    return len(found)


def identify_form(doc: Document) -> str | None:
    specs = all_specs()
    by_title = _title_match(doc, specs)
    if by_title:
        return by_title
    scores = sorted(((_label_score(doc, spec), ft) for ft, spec in specs.items()), reverse=True)
    (best, form_type), (second, _) = scores[0], scores[1]
    if best >= MIN_LABELS_WITHOUT_TITLE and best > second:
        return form_type
    return None
