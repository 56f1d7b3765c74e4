"""Guesses a mapping draft makes from a column's cells: date layout, number format, canonical labels.

Pure functions over a sample of text cells. Each returns its guess and, where the sample cannot tell, a note
for the user to check; nothing is guessed from a value the sample does not show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from cvre.core.schema import STAGES_OPEN
from cvre.ingest.coerce import AFFIXED, CURRENCY_SIGNS, FALSE_WORDS, SPACES, TRUE_WORDS, NumberFormat
from cvre.ingest.labels import normalise_label

DATE_FORMATS = (  # day-first before month-first: an ambiguous sample is read the European way, with a note
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d",
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%d-%m-%Y %H:%M",
    "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d/%m/%y %H:%M", "%m/%d/%y %H:%M", "%m/%d/%y %I:%M %p",
    "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d-%b-%y", "%d %B %Y", "%B %d, %Y", "%d-%b-%Y %H:%M", "%b %d, %Y %I:%M %p",
    "%a %b %d %H:%M:%S %z %Y", "%a, %d %b %Y %H:%M:%S %z",  # Twitter's created_at, e-mail (RFC 2822)
)
LAYOUT_TRIAL = 5000  # cells each layout is tried on; the one taken is then checked on all
MOSTLY = 0.9  # a layout that reads this share of the cells is taken, the rest flagged (rejected rows)
PLACEHOLDERS = ("?", "-", "--", "n/a", "N/A", "#N/A", "null", "NULL", "(blank)", "nan", "NaN")  # not "NA" (Namibia)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_NUMBER = re.compile(r"^[+-]?[\d.,'\s\u00a0\u202f]*\d$")
# a decimal mark beyond doubt: not three digits after it with no other mark (1,234 and 1.234 could be either)
_GAP = r"[\s\u00a0\u202f]"
_COMMA_DECIMAL = re.compile(rf"^[+-]?(\d{{1,3}}([.]|{_GAP})\d{{3}}(([.]|{_GAP})\d{{3}})*|\d+),(\d{{1,2}}|\d{{4,}})$"
                            rf"|^[+-]?\d{{1,3}}(([.]|{_GAP})\d{{3}})+,\d+$|^[+-]?0,\d+$")
_DOT_DECIMAL = re.compile(rf"^[+-]?(\d{{1,3}}(,|{_GAP})\d{{3}}((,|{_GAP})\d{{3}})*|\d+)\.(\d{{1,2}}|\d{{4,}})$"
                          rf"|^[+-]?\d{{1,3}}((,|{_GAP})\d{{3}})+\.\d+$|^[+-]?0\.\d+$")
_DOT_GROUPS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_COMMA_GROUPS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE_GROUPS = re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?$")

# Canonical labels by words a CRM uses for them, checked in order: the first hit names the label. A stem matches
# at the start of a word only ("lose" is not in "Ready to Close", "win" not in "Following up").
STAGE_WORDS = (
    ("closed_won", ("won", "win", "closedwon", "gagn", "gewonnen", "ganad", "signed", "booked")),
    ("closed_lost", ("lost", "lose", "closedlost", "perdu", "perdid", "verlor", "dead", "disqualif", "rejected",
                     "cancel")),
    ("negotiation", ("negotiat", "négoci", "negoci", "verhandl", "contract", "commit")),
    ("proposal", ("proposal", "quote", "offer", "devis", "angebot", "propuest", "pricing", "presentation",
                  "perception", "decisionmakerboughtin")),
    ("qualification", ("qualif", "discover", "need", "engag", "demo", "meeting", "analysis", "decision",
                       "value_prop")),
    ("prospecting", ("prospect", "new", "lead", "contact", "open", "initial", "appointment")),
)
BUSINESS_TYPE_WORDS = (("repeat", ("existing", "renewal", "upgrade", "upsell", "repeat", "expansion")),
                       ("new", ("new",)))
OUTCOME_WORDS = (("won", ("won", "win", "gagn")), ("lost", ("lost", "lose", "perdu")), ("open", ("open", "progress")))
NEGATIONS = ("not", "no", "non", "never", "kein", "pas")  # "Not Churned", "No Churn": the other answer
MAX_CATEGORIES = 50
LABEL_WORDS = {"stage": STAGE_WORDS, "business_type": BUSINESS_TYPE_WORDS, "outcome": OUTCOME_WORDS}


@dataclass(frozen=True)
class Guess:
    """A setting read off the cells (None: the default fits), and a note when the sample allows another."""

    value: object
    note: str = ""


def filled(cells: pd.Series) -> pd.Series:
    """The non-empty cells of a sample, stripped."""
    text = cells.astype("string").str.strip()
    return text[text.notna() & text.ne("")]


def date_format(cells: pd.Series) -> Guess:
    """None where every cell is ISO 8601 (the default); else the first layout that reads the most cells, taken
    when it reads at least MOSTLY of them."""
    values = filled(cells)
    if values.empty or values.str.match(_ISO).all():
        return Guess(None)
    trial = values.sample(min(len(values), LAYOUT_TRIAL), random_state=0)  # each layout tried on a sample
    read = {fmt: pd.to_datetime(trial, format=fmt, errors="coerce", utc=True).notna().mean() for fmt in DATE_FORMATS}
    best = max(read, key=read.get)  # the first of equals: day-first
    if read[best] < MOSTLY:
        return Guess(None, f"no date layout reads the cells (e.g. {values.iloc[0]!r}): set date_formats")
    unread = values[pd.to_datetime(values, format=best, errors="coerce", utc=True).isna()]
    note = (f"{len(unread):,} cells read in no layout (e.g. {unread.iloc[0]!r}): their rows are rejected"
            if len(unread) else "")
    swapped = best.replace("%d", "%?").replace("%m", "%d").replace("%?", "%m")
    if swapped != best and read.get(swapped) == read[best]:
        note = f"the sample also reads as {swapped!r} (month/day): check"
    return Guess(best, note)


def placeholders(cells: pd.DataFrame) -> list[str]:
    """Placeholders for "no value" that the cells use ('?', 'N/A', 'NULL'...): the mapping's missing_values."""
    used = pd.unique(cells.astype("string").stack().str.strip())
    return [p for p in PLACEHOLDERS if p in set(used)]


def number_format(cells: pd.Series) -> Guess:
    """The NumberFormat the cells are written in (NumberFormat() is the default): currency signs, codes and
    percent signs around the numbers, the digit-group separator, the decimal mark. The decimal mark is the one
    more cells show unambiguously (12,5 against 12.5); a dot is a group separator only where every dotted cell is
    grouped in threes. Cells that disagree are counted in a note."""
    values = filled(cells)
    found = values.str.extract(AFFIXED)
    affixes = tuple(sorted(set(found[0].dropna()) | set(found[1].dropna())))
    values = NumberFormat(affixes=affixes).clean(values) if affixes else values
    values = values[values.str.match(_NUMBER)]
    comma_decimals = int(values.str.match(_COMMA_DECIMAL).sum())
    dot_decimals = int(values.str.match(_DOT_DECIMAL).sum())
    dotted = values[values.str.contains(".", regex=False)]
    dot_groups = (not dotted.empty and bool(dotted.str.match(_DOT_GROUPS).all())
                  and not dotted.str.match(r"^[+-]?0\.").any())
    decimal = "," if comma_decimals > dot_decimals or (not comma_decimals and not dot_decimals and dot_groups) else "."
    if values.str.match(_SPACE_GROUPS).any():
        thousands: str | None = " "
    elif decimal == "," and dot_groups:
        thousands = "."
    elif decimal == "." and values.str.match(_COMMA_GROUPS).any() and not comma_decimals:
        thousands = ","
    else:
        thousands = None
    notes = []
    if comma_decimals and dot_decimals:
        other = min(comma_decimals, dot_decimals)
        notes.append(f"{other:,} cells write decimals with the other mark ({comma_decimals:,} with ',', "
                     f"{dot_decimals:,} with '.'): they are rejected; check")
    if dot_groups and not comma_decimals:
        notes.append(f"cells like {dotted.iloc[0]!r} read with dots between digit groups (thousands), not as "
                     "decimals: check")
    return Guess(NumberFormat(thousands, decimal, affixes), "; ".join(notes))


def currency_of(numbers: NumberFormat) -> str | None:
    """The currency the numbers' sign or code names, where they name exactly one."""
    named = {CURRENCY_SIGNS.get(a, a) for a in numbers.affixes if a in CURRENCY_SIGNS or re.fullmatch("[A-Z]{3}", a)}
    return named.pop() if len(named) == 1 else None


def is_percent(cells: pd.Series, numbers: NumberFormat) -> bool:
    """A probability written 0-100 (some cell above 1), not 0-1."""
    parsed = pd.to_numeric(numbers.clean(filled(cells).str.rstrip("%").str.strip()), errors="coerce")
    return bool(parsed.gt(1).any())


def canonical_labels(cells: pd.Series, column: str, allowed: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """{source label: canonical label} for the labels the words recognise, and the labels left unknown.

    Labels already canonical (any case, any spacing) are left out: the import reads them as they are.
    """
    words = LABEL_WORDS.get(column, ())
    canonical = {normalise_label(a) for a in allowed}
    known, unknown = {}, []
    for label in sorted(filled(cells).unique()):
        norm = normalise_label(label)
        if norm in canonical:
            continue
        hit = next((target for target, stems in words if target in allowed and _names(norm, stems)), None)
        if hit:
            known[label] = hit
        else:
            unknown.append(label)
    return known, unknown


YES_WORDS = ("attrit", "churn", "exited", "left", "cancel", "closed", "lost", "inactive")
NO_WORDS = ("exist", "active", "retain", "stay", "current", "open", "kept")


def _names(label: str, stems: tuple[str, ...]) -> bool:
    """Whether a word of the normalised label starts with one of the stems (a stem with '_' spans words)."""
    return any(re.search(rf"(?:^|[^a-zà-ÿ]){re.escape(stem)}", label) for stem in stems)


def yes_no_labels(cells: pd.Series) -> tuple[dict[str, bool], list[str]]:
    """{label: True/False} for a yes/no column written in words, and the labels left unknown (yes/no, true/false,
    1/0 read as they are)."""
    known, unknown = {}, []
    for label in sorted(filled(cells).unique()):
        word = normalise_label(label)
        if word in TRUE_WORDS or word in FALSE_WORDS:
            continue
        yes, no = _names(word, YES_WORDS), _names(word, NO_WORDS)
        if yes != no:
            negated = any(token in NEGATIONS for token in re.split(r"[^a-zà-ÿ]+", word))
            known[label] = yes != negated
        else:
            unknown.append(label)
    return known, unknown


def column_kind(cells: pd.Series, numbers: NumberFormat) -> str | None:
    """The extra-column kind of a source column: bool, int, float, or str for a category (at most
    MAX_CATEGORIES labels, each used twice on average); None for free text and ids, which are no model input."""
    values = filled(cells)
    if values.empty:
        return None
    if values.str.lower().isin(TRUE_WORDS + FALSE_WORDS).all():
        return "bool"
    parsed = pd.to_numeric(numbers.clean(values), errors="coerce")
    if parsed.notna().all():
        return "int" if (parsed % 1 == 0).all() else "float"
    labels = values.nunique()
    return "str" if labels <= MAX_CATEGORIES and 2 * labels <= len(values) else None  # labels that repeat


def close_date_is_expected_while_open(close_dates: pd.Series, stages: pd.Series, labels: dict[str, str]) -> bool:
    """Salesforce's and HubSpot's "Close Date": set for most open deals too, so it is the expected date then."""
    stage = stages.astype("string").str.strip()
    canonical = stage.map(lambda s: labels.get(s, normalise_label(s)) if isinstance(s, str) else s)
    open_rows = canonical.isin(STAGES_OPEN).fillna(False)
    if not open_rows.any():
        return False
    dated = close_dates.astype("string").str.strip().fillna("").ne("")
    return bool(dated[open_rows].mean() > 0.5)


def thousands_yaml(numbers: NumberFormat) -> str | None:
    """How the draft writes the `thousands:` value (any space as one plain space)."""
    if numbers.thousands is None:
        return None
    return " " if numbers.thousands in SPACES else numbers.thousands
