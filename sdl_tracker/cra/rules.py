"""The CRA conformity file's rules: which Annex I points may be not applicable, which need evidence that
IEC 62443 cannot give, the support period (Art. 13(8)), the conformity routes a category allows (Art. 32),
the Annex II and Annex V items, and what a release still lacks before its technical file can be exported.

Pure: plain values in, plain values out; no database, Flask or clock (`today` is passed).
"""

from __future__ import annotations

import calendar
import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from ..boundary import text_problem
from ..errors import FieldError
from ..evidence.standing import add_months

# Annex I in the catalog's own ids: Part I (1), Part I (2)(a)-(m), Part II (1)-(8).
PART_I_2 = tuple(f"I.2{letter}" for letter in "abcdefghijklm")
PART_II = tuple(f"II.{n}" for n in range(1, 9))
ANNEX_I_POINTS = ("I.1", *PART_I_2, *PART_II)

# Part I (1) and every Part II duty bind every product (Art. 13(4) lets only Part I (2) points be found not
# applicable, with a justification): each shows the process evidence that meets it instead.
ALWAYS_APPLICABLE = frozenset({"I.1", *PART_II})

# Software applications (IEC 62443-4-2's SAR): how they receive updates is their platform's or the
# manufacturer's own mechanism, which no 4-2 component requirement covers.
SOFTWARE_APPLICATION = "SAR"


def needs_other_evidence(ref: str, component_type: str) -> str | None:
    """Why IEC 62443 evidence cannot show point `ref` is met (None: it can), for a component of that type."""
    if ref == "I.2g":
        return "data minimisation: no IEC 62443 requirement limits what data a product processes"
    if ref == "I.2m":
        return "secure transfer of data to other products or systems: IEC 62443 covers removal (SG-4), not transfer"
    if ref == "II.8":
        return "free-of-charge security updates: a commercial commitment no IEC 62443 requirement records"
    if ref == "I.2c" and component_type == SOFTWARE_APPLICATION:
        return "update capability of a software application: its update mechanism is outside IEC 62443-4-2"
    return None


def says_something(text: str) -> bool:
    """Whether `text` has a visible character: blanks and invisible format characters (a zero-width space, a
    word joiner, a byte order mark) alone say nothing, though no door refuses them as control characters."""
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text)


def applicability_problems(ref: str, applicable: bool, justification: str) -> list[FieldError]:
    """What is wrong with an applicability decision for point `ref` (empty: nothing)."""
    if ref not in ANNEX_I_POINTS:
        return [FieldError("ref", f"{ref!r} is not an Annex I point (one of I.1, I.2a-I.2m, II.1-II.8)")]
    if not applicable and ref in ALWAYS_APPLICABLE:
        which = "Annex I Part I (1)" if ref == "I.1" else f"Annex I Part II ({ref[3:]})"
        return [FieldError("applicable", f"{which} applies to every product and cannot be marked not applicable")]
    if not applicable and not says_something(justification):
        return [FieldError("justification", "a point marked not applicable needs a justification (Art. 13(4))")]
    return []


def point_label(ref: str) -> str:
    """`I.2h` -> `Annex I Part I (2)(h)`; `II.3` -> `Annex I Part II (3)`."""
    if ref == "I.1":
        return "Annex I Part I (1)"
    if ref.startswith("I.2"):
        return f"Annex I Part I (2)({ref[3:]})"
    return f"Annex I Part II ({ref[3:]})"


# --- support period (Art. 13(8)) ------------------------------------------------------------------------

MINIMUM_SUPPORT_YEARS = 5
UPDATE_AVAILABILITY_YEARS = 10  # each security update stays available (Art. 13(9))
DOCUMENTATION_RETENTION_YEARS = 10  # technical documentation and the declaration (Art. 13(13))


def add_years(day: date, years: int) -> date:
    """`day` moved `years` on (29 February to 28 February where the year has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def end_of_month(year: int, month: int) -> date:
    """The last day of a month: a support period stated as month and year ends with it."""
    return date(year, month, calendar.monthrange(year, month)[1])


def months_between(start: date, end: date) -> int:
    """Whole months a period from `start` to `end` covers, both days included (the end date is the last day of
    support): 1 January 2026 to 31 December 2030 is 60, 15 March to 14 March a year later 12."""
    after = end + timedelta(days=1)  # the first day the period no longer covers
    months = (after.year - start.year) * 12 + (after.month - start.month)
    if add_months(start, months) > after:
        months -= 1
    return months


def parse_support_end(text: str) -> tuple[date, str] | None:
    """A stated end of the support period: `YYYY-MM` (it ends with that month: its last day, precision "month")
    or `YYYY-MM-DD` (precision "day"); None when it is neither."""
    parts = text.strip().split("-")
    if not 2 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    if len(parts[0]) != 4 or any(len(p) != 2 for p in parts[1:]):
        return None
    try:
        if len(parts) == 2:
            return end_of_month(int(parts[0]), int(parts[1])), "month"
        return date(int(parts[0]), int(parts[1]), int(parts[2])), "day"
    except ValueError:  # month 13, 30 February
        return None


def stated_end(day: date, precision: str) -> str:
    """The end as stated: `2031-12` for a month, `2031-12-15` for a day."""
    return day.isoformat()[:7] if precision == "month" else day.isoformat()


EXPECTED_USE_MAX_MONTHS = 1200  # a hundred years: more is a typing error


def expected_use_problem(months: int | None) -> str | None:
    """Why a product's expected use time in months cannot be recorded (None: it can, or it is not stated)."""
    if months is None:
        return None
    if months <= 0:
        return "the expected use time must be positive"
    if months > EXPECTED_USE_MAX_MONTHS:
        return f"the expected use time is at most {EXPECTED_USE_MAX_MONTHS} months (100 years)"
    return None


@dataclass(frozen=True)
class SupportPeriodFacts:
    """How a product's support period was set, as recorded."""

    starts_on: date | None  # placed on the market (or the start of support)
    ends_on: date | None
    expected_use_months: int | None
    method: str  # how the period was set
    shorter_reason: str  # why it is shorter than 5 years (required then)
    published_where: str  # where the end date is published (a URL or a description)


def support_period_problems(facts: SupportPeriodFacts) -> list[FieldError]:
    """What makes a support period unacceptable under Art. 13(8) (empty: nothing): under 5 years needs the
    product's shorter expected use time and a reason; it may not be shorter than the expected use time it
    was set from."""
    errors: list[FieldError] = []
    if facts.starts_on is None:
        errors.append(FieldError("starts_on", "the date the product is placed on the market is required"))
    if facts.ends_on is None:
        errors.append(FieldError("ends_on", "the end of the support period (at least month and year) is required"))
    use_problem = expected_use_problem(facts.expected_use_months)
    if use_problem:
        errors.append(FieldError("expected_use_months", use_problem))
    if errors or facts.starts_on is None or facts.ends_on is None:
        return errors
    if facts.ends_on <= facts.starts_on:
        return [FieldError("ends_on", "the support period must end after it starts")]
    months = months_between(facts.starts_on, facts.ends_on)
    if months < MINIMUM_SUPPORT_YEARS * 12:
        if not says_something(facts.shorter_reason):
            errors.append(
                FieldError(
                    "shorter_reason",
                    f"a support period of {describe_months(months)} is under 5 years: say why the product is "
                    "expected to be used for less (Art. 13(8))",
                )
            )
        if facts.expected_use_months is None or facts.expected_use_months >= MINIMUM_SUPPORT_YEARS * 12:
            errors.append(
                FieldError(
                    "expected_use_months",
                    "a support period under 5 years is allowed only for a product expected to be used for less "
                    "than 5 years: state that expected use time",
                )
            )
    if facts.expected_use_months is not None and months < min(facts.expected_use_months, MINIMUM_SUPPORT_YEARS * 12):
        errors.append(
            FieldError(
                "ends_on",
                f"the support period ({describe_months(months)}) is shorter than the expected use time "
                f"({describe_months(facts.expected_use_months)}) it reflects",
            )
        )
    return errors


def describe_months(months: int) -> str:
    """`62` -> `5 years 2 months`."""
    years, rest = divmod(months, 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if rest or not parts:
        parts.append(f"{rest} month{'s' if rest != 1 else ''}")
    return " ".join(parts)


PUBLISHED_DESCRIPTION_MAX = 300  # a description of where the end date is published, when it is no URL
PUBLISHED_URL_MAX = 1000


def is_web_address(text: str) -> bool:
    """Whether `text` is an http(s) URL with a host (pages link only those)."""
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed [ of an IPv6 host
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in text)


def published_where_problem(text: str) -> str | None:
    """Why `text` cannot say where the support period's end is published (None: it can): an http(s) URL, or a
    short description ("on the product's label and in its manual")."""
    if "://" in text or text.casefold().startswith("www."):
        if not is_web_address(text) or len(text) > PUBLISHED_URL_MAX:
            return f"a web address is an http:// or https:// URL of at most {PUBLISHED_URL_MAX} characters"
        return None
    if len(text) > PUBLISHED_DESCRIPTION_MAX:
        return f"give a URL, or describe where in at most {PUBLISHED_DESCRIPTION_MAX} characters (this is {len(text)})"
    return None


def update_available_until(issued: date, support_ends: date | None) -> date:
    """How long a security update must stay available: 10 years after issue or the rest of the support
    period, whichever is longer (Art. 13(9))."""
    ten_years = add_years(issued, UPDATE_AVAILABILITY_YEARS)
    return max(ten_years, support_ends) if support_ends else ten_years


def documentation_retained_until(placed_on_market: date, support_ends: date | None) -> date:
    """How long the technical documentation and declaration are kept: 10 years after placing on the market
    or the support period, whichever is longer (Art. 13(13))."""
    ten_years = add_years(placed_on_market, DOCUMENTATION_RETENTION_YEARS)
    return max(ten_years, support_ends) if support_ends else ten_years


# --- Annex II user information ---------------------------------------------------------------------------

USER_INFORMATION_ITEMS: tuple[tuple[str, str], ...] = (
    ("AII.1", "Manufacturer's name, postal address, e-mail or other digital contact, and website"),
    ("AII.2", "Single point of contact for reporting vulnerabilities, and where the CVD policy is found"),
    ("AII.3", "Name and type of the product and any information that uniquely identifies it"),
    ("AII.4", "Intended purpose, security environment, essential functionalities and security properties"),
    ("AII.5", "Known or foreseeable circumstances that may lead to significant cybersecurity risks"),
    ("AII.6", "Internet address of the EU declaration of conformity, where applicable"),
    ("AII.7", "Type of technical security support and the end date of the support period"),
    ("AII.8a", "Instructions (8a): measures at commissioning and throughout the lifetime for secure use"),
    ("AII.8b", "Instructions (8b): how changes to the product can affect the security of data"),
    ("AII.8c", "Instructions (8c): how security-relevant updates can be installed"),
    ("AII.8d", "Instructions (8d): secure decommissioning, including how user data can be securely removed"),
    ("AII.8e", "Instructions (8e): how the default automatic installation of security updates can be turned off"),
    ("AII.8f", "Instructions (8f): information an integrator needs to meet Annex I and Annex VII"),
    ("AII.9", "Where the SBOM can be accessed, if it is made available to users"),
)
USER_INFORMATION_REFS = tuple(ref for ref, _ in USER_INFORMATION_ITEMS)


def mapping_target(item_ref: str) -> str:
    """The catalog point an Annex II item's evidence is mapped to: `AII.8c` -> `AII.8` (the mapping names the
    sub-point in its rationale)."""
    return item_ref[:5] if item_ref.startswith("AII.8") else item_ref


_SUB_POINT = re.compile(r"\b8\(([a-f])\)")


def serves_item(item_ref: str, rationale: str) -> bool:
    """Whether a mapping row to `mapping_target(item_ref)` serves that item: a row to Annex II point 8 whose
    rationale names sub-points (`8(c)`) serves only those; one naming none serves every instruction."""
    if not item_ref.startswith("AII.8"):
        return True
    named = set(_SUB_POINT.findall(rationale))
    return not named or item_ref[5:] in named


USER_INFORMATION_TEXT_MAX = 20_000


def clean_text(text: str) -> str:
    """Text as it is stored: trimmed, its line breaks `\n` (a browser sends `\r\n`, so the same text saved from a
    page and through the API is the same, and saving it again changes nothing)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


# IEC 62443-4-2's component types, as the product's identification names them.
COMPONENT_TYPE_WORDS = {
    "SAR": "software application",
    "EDR": "embedded device",
    "HDR": "host device",
    "NDR": "network device",
}


def product_identification(name: str, component_type: str, version: str) -> str:
    """How the product of a release is identified: `PLC, embedded device (IEC 62443-4-2 EDR), version 1.0`."""
    kind = COMPONENT_TYPE_WORDS.get(component_type, component_type)
    return f"{name}, {kind} (IEC 62443-4-2 {component_type}), version {version}"


def user_information_suggestions(
    *,
    vendor: str,
    security_contact: str,
    cvd_policy_url: str,
    name: str,
    component_type: str,
    version: str,
    declaration_url: str,
    support_ends: date | None,
) -> dict[str, str]:
    """Starting texts for the Annex II items the tracker already knows something of (an item it knows nothing
    of is absent)."""
    contact = []
    if security_contact:
        contact.append(f"Report vulnerabilities to {security_contact}.")
    if cvd_policy_url:
        contact.append(f"Our coordinated vulnerability disclosure policy: {cvd_policy_url}")
    found = {
        "AII.1": vendor,
        "AII.2": " ".join(contact),
        "AII.3": product_identification(name, component_type, version),
        "AII.6": declaration_url,
        "AII.7": (
            f"Security updates are provided until the end of the support period: {month_and_year(support_ends)}."
            if support_ends
            else ""
        ),
    }
    return {ref: text for ref, text in found.items() if text}


def names_version(text: str, version: str) -> bool:
    """Whether `text` names `version` as a version of its own (`1.0` and `v1.0`, not `1.0.1` or `11.0`)."""
    pattern = rf"(?<![0-9A-Za-z.])[vV]?{re.escape(version)}(?![0-9A-Za-z]|\.[0-9A-Za-z])"
    return re.search(pattern, text) is not None


def version_warning(text: str, version: str) -> str:
    """A warning for a recorded identification of the product that does not name the release's version (one
    carried forward from the release before, say); empty when it does or nothing is recorded."""
    if not text.strip() or names_version(text, version):
        return ""
    return f"the product's identification does not name this release's version ({version})"


# In English whatever the process's locale (calendar.month_name follows it).
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def month_and_year(day: date) -> str:
    """`2031-12-31` -> `December 2031`: how a support period's end is stated to users (Art. 13(19))."""
    return f"{MONTHS[day.month - 1]} {day.year}"


# --- declaration of conformity and conformity route (Art. 28, Annex V, Art. 32) --------------------------


class ConformityRoute(enum.StrEnum):
    """The conformity assessment procedures of Art. 32."""

    MODULE_A = "module_a"  # internal control (Annex VIII Part I)
    MODULE_B_C = "module_b_c"  # EU-type examination and conformity to type (Annex VIII Parts II and III)
    MODULE_H = "module_h"  # full quality assurance (Annex VIII Part IV)
    EU_SCHEME = "eu_scheme"  # a European cybersecurity certification scheme (Art. 27(9))


ROUTE_LABELS = {
    ConformityRoute.MODULE_A: "Module A: internal control",
    ConformityRoute.MODULE_B_C: "Modules B and C: EU-type examination and conformity to type",
    ConformityRoute.MODULE_H: "Module H: full quality assurance",
    ConformityRoute.EU_SCHEME: "European cybersecurity certification scheme",
}
# Routes that involve a notified body, whose name, number and certificate the declaration then names.
NOTIFIED_BODY_ROUTES = frozenset({ConformityRoute.MODULE_B_C, ConformityRoute.MODULE_H})


class PresumptionBasis(enum.StrEnum):
    """What an important class I product applies in full to use module A (Art. 32(2))."""

    HARMONISED_STANDARD = "harmonised_standard"
    COMMON_SPECIFICATION = "common_specification"
    CERTIFICATION_SCHEME = "certification_scheme"


@dataclass(frozen=True)
class RouteRules:
    """The legal facts the route check depends on, kept in settings as they change."""

    cited_standards: tuple[str, ...] = ()  # harmonised standards under the CRA cited in the Official Journal
    critical_scheme_required: bool = False  # a delegated act requires a European scheme for critical products


CATEGORY_NAMES = {
    "default": "a default-category product",
    "important_class_i": "an important product of class I",
    "important_class_ii": "an important product of class II",
    "critical": "a critical product",
}
_THIRD_PARTY = (ConformityRoute.MODULE_B_C, ConformityRoute.MODULE_H, ConformityRoute.EU_SCHEME)


def allowed_routes(category: str, rules: RouteRules) -> tuple[ConformityRoute, ...]:
    """The routes a CRA category allows (Art. 32); module A of class I further needs a basis applied in full,
    which `route_problems` checks. An unknown category allows none."""
    if category in ("default", "important_class_i"):
        return tuple(ConformityRoute)
    if category == "critical" and rules.critical_scheme_required:
        return (ConformityRoute.EU_SCHEME,)
    if category in ("important_class_ii", "critical"):
        return _THIRD_PARTY
    return ()


def route_note(category: str, rules: RouteRules) -> str:
    """Why a category allows the routes it does, for the person choosing one."""
    if category == "default":
        return "A default-category product may use module A (internal control) or any stricter route (Art. 32(1))."
    if category == "important_class_i":
        return (
            "An important product of class I may use module A only when it applies in full a harmonised standard "
            "cited in the Official Journal, a common specification or a European cybersecurity certification "
            "scheme (assurance level at least 'substantial'); otherwise modules B and C, module H or such a scheme "
            "(Art. 32(2))."
        )
    if category == "important_class_ii":
        return (
            "An important product of class II needs modules B and C, module H or a European cybersecurity "
            "certification scheme (Art. 32(3))."
        )
    if category == "critical" and rules.critical_scheme_required:
        return (
            "A delegated act requires a European cybersecurity certification scheme for critical products "
            "(Art. 8(1), Art. 32(4)): no other route is open."
        )
    if category == "critical":
        return (
            "No delegated act requires a European cybersecurity certification scheme for critical products yet: they "
            "use the routes of class II, modules B and C, module H or a scheme (Art. 32(4))."
        )
    return f"{category!r} is no CRA category (one of: {', '.join(CATEGORY_NAMES)})."


def route_problems(category: str, route: str, basis: str, basis_reference: str, rules: RouteRules) -> list[FieldError]:
    """What is wrong with a conformity route for a product of `category` (empty: nothing; an empty route is
    not yet chosen, which completeness reports)."""
    if not route:
        return []
    try:
        chosen = ConformityRoute(route)
    except ValueError:
        return [FieldError("conformity_route", f"unknown route {route!r} (one of: {', '.join(ConformityRoute)})")]
    if category not in CATEGORY_NAMES:
        return [FieldError("conformity_route", route_note(category, rules))]
    if chosen not in allowed_routes(category, rules):
        message = f"{ROUTE_LABELS[chosen]} is not open to {CATEGORY_NAMES[category]}. {route_note(category, rules)}"
        return [FieldError("conformity_route", message)]
    if category == "important_class_i" and chosen is ConformityRoute.MODULE_A:
        return _class_i_module_a_problems(basis, basis_reference, rules)
    return []


def _class_i_module_a_problems(basis: str, reference: str, rules: RouteRules) -> list[FieldError]:
    if not basis:
        return [
            FieldError(
                "conformity_route",
                "module A is open to an important product of class I only when a harmonised standard, a common "
                "specification or a European certification scheme is applied in full; otherwise choose modules "
                "B and C or module H",
            )
        ]
    try:
        kind = PresumptionBasis(basis)
    except ValueError:
        return [FieldError("presumption_basis", f"unknown basis {basis!r} (one of: {', '.join(PresumptionBasis)})")]
    if not reference.strip():
        return [FieldError("presumption_basis_reference", "name the standard, specification or scheme applied in full")]
    if kind is PresumptionBasis.HARMONISED_STANDARD and not is_cited(reference, rules.cited_standards):
        cited = "; ".join(rules.cited_standards) or "none is cited yet"
        return [
            FieldError(
                "presumption_basis_reference",
                f"{reference.strip()!r} is not a harmonised standard cited in the Official Journal under the CRA "
                f"(cited: {cited}); IEC 62443-4-1 and 4-2 give no presumption of conformity",
            )
        ]
    return []


def basis_problems(category: str, route: str, basis: str, basis_reference: str) -> list[FieldError]:
    """A presumption basis recorded where it means nothing: it is the condition of module A for an important
    product of class I (Art. 32(2)) and is recorded for that route alone, never kept beside another one."""
    if not basis and not basis_reference.strip():
        return []
    if category == "important_class_i" and route == ConformityRoute.MODULE_A:
        return []
    field_name = "presumption_basis" if basis else "presumption_basis_reference"
    return [
        FieldError(
            field_name,
            "a basis applied in full is recorded only with module A for an important product of class I "
            "(Art. 32(2)); leave it and its reference empty for this route",
        )
    ]


NOTIFIED_BODY_NUMBER = re.compile(r"^[0-9]{4}$")


def notified_body_problems(route: str, name: str, number: str) -> list[FieldError]:
    """What is wrong with the notified body a declaration names (Annex V point 7): its number is the four digits
    the Commission assigns, and module A (internal control) involves none."""
    errors = []
    if number and not NOTIFIED_BODY_NUMBER.match(number):
        errors.append(
            FieldError("notified_body_number", "a notified body's number is the four digits it is listed with (0123)")
        )
    if route == ConformityRoute.MODULE_A and (name.strip() or number):
        field_name = "notified_body_name" if name.strip() else "notified_body_number"
        errors.append(
            FieldError(
                field_name, "module A (internal control) involves no notified body: leave its name and number empty"
            )
        )
    return errors


def url_problem(url: str) -> str | None:
    """Why a web address cannot be published (None: it can, or it is empty): an http(s) URL with a host."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return "must be an http(s) URL"
    return None


# The standards every file records as applied, and what it says of them.
APPLIED_62443 = ("IEC 62443-4-1", "IEC 62443-4-2")
OTHER_STANDARDS_MAX = 40
STANDARD_REFERENCE_MAX = 300


def standard_key(reference: str) -> str:
    """A standard's reference compared with spacing and case aside."""
    return " ".join(reference.split()).casefold()


def applied_62443(editions: Mapping[str, str]) -> list[str]:
    """IEC 62443-4-1 and 4-2 as applied, each with the edition the product is assessed against
    (`IEC 62443-4-1:2018`)."""
    return [f"{standard}:{editions[standard]}" if standard in editions else standard for standard in APPLIED_62443]


def other_standards(entries: Sequence[str]) -> tuple[list[str], list[FieldError]]:
    """The standards and specifications applied besides IEC 62443-4-1 and 4-2, trimmed, empty lines dropped and
    repeats kept once (the first spelling), and what is wrong with them."""
    kept: list[str] = []
    seen: set[str] = set()
    errors: list[FieldError] = []
    for entry in entries:
        reference = entry.strip()
        key = standard_key(reference)
        if not reference or key in seen:
            continue
        seen.add(key)
        kept.append(reference)
        if text_problem(reference):
            errors.append(FieldError("other_standards", f"each standard is one line: {reference[:60]!r}"))
        elif len(reference) > STANDARD_REFERENCE_MAX:
            errors.append(FieldError("other_standards", f"at most {STANDARD_REFERENCE_MAX} characters a standard"))
        elif any(key.replace(" ", "").startswith(s.casefold().replace(" ", "")) for s in APPLIED_62443):
            errors.append(
                FieldError(
                    "other_standards",
                    f"{reference!r}: IEC 62443-4-1 and 4-2 are always recorded as applied, with the editions the "
                    "product is assessed against; do not list them here",
                )
            )
    if len(kept) > OTHER_STANDARDS_MAX:
        errors.append(FieldError("other_standards", f"at most {OTHER_STANDARDS_MAX} standards ({len(kept)} given)"))
    return kept, errors


def is_cited(reference: str, cited: Sequence[str]) -> bool:
    """Whether a standard's reference is among the cited ones (spacing and case aside)."""
    key = standard_key(reference)
    return any(standard_key(c) == key for c in cited)


def standards_statement(applied: Sequence[str], rules: RouteRules, on: date) -> str:
    """What the file says of the standards applied: which give a presumption of conformity as of `on`."""
    cited = [s for s in applied if is_cited(s, rules.cited_standards)]
    uncited = [s for s in applied if s not in cited]
    parts = []
    if len(uncited) == 1:
        parts.append(
            f"As of {on.isoformat()}, {uncited[0]} is not a harmonised standard cited in the Official Journal of the "
            "European Union under Regulation (EU) 2024/2847 and gives no presumption of conformity (Art. 27); it is "
            "recorded as a solution applied (Annex VII point 5)."
        )
    elif uncited:
        parts.append(
            f"As of {on.isoformat()}, {', '.join(uncited)} are not harmonised standards cited in the Official Journal "
            "of the European Union under Regulation (EU) 2024/2847 and give no presumption of conformity (Art. 27); "
            "they are recorded as the solutions applied (Annex VII point 5)."
        )
    if cited:
        which = "standard" if len(cited) == 1 else "standards"
        parts.append(
            f"Harmonised {which} cited in the Official Journal applied, giving a presumption of conformity with the "
            f"requirements {'it covers' if len(cited) == 1 else 'they cover'} (Art. 27(1)): {', '.join(cited)}."
        )
    return " ".join(parts)


# --- completeness -----------------------------------------------------------------------------------------


class Area(enum.StrEnum):
    """Where a missing part of the file is fixed."""

    POINT = "point"
    RISK = "risk"
    SUPPORT = "support"
    USER_INFORMATION = "user_information"
    DECLARATION = "declaration"


@dataclass(frozen=True)
class PointFacts:
    """One Annex I point of a release, as recorded and as its evidence stands."""

    ref: str
    assessed: bool  # an applicability decision is recorded
    applicable: bool
    justification: str
    measures: str
    mapped_met: int  # mapped 4-1 requirements met and mapped 4-2 claims standing, for the release
    linked_accepted: int  # evidence linked by hand whose current revision is accepted
    other_evidence_reason: str | None  # needs_other_evidence(...)


@dataclass(frozen=True)
class FileFacts:
    """Everything completeness reads of a release's CRA file."""

    category: str
    points: tuple[PointFacts, ...]
    risk_assessment: dict[str, str] | None  # the newest revision's fields, None: none recorded
    risk_threat_model: bool  # the newest revision names the product's threat model, and it is accepted
    support: SupportPeriodFacts | None
    user_information: dict[str, bool]  # by item ref: has text or an accepted document
    declaration: dict[str, str] | None  # field -> value, None: none recorded
    route_rules: RouteRules = field(default_factory=RouteRules)


@dataclass(frozen=True)
class Missing:
    """One thing a release's CRA file still lacks, and where it is fixed (area and key)."""

    area: Area
    key: str  # the point, item or field; "" for the area as a whole
    message: str


RISK_FIELDS = (
    ("intended_purpose", "intended purpose"),
    ("foreseeable_use", "reasonably foreseeable use"),
    ("foreseeable_misuse", "reasonably foreseeable misuse"),
    ("operational_environment", "operational environment"),
    ("assets", "assets to protect"),
)
DECLARATION_FIELDS = (
    ("manufacturer_name", "manufacturer's name"),
    ("manufacturer_address", "manufacturer's address"),
    ("product_identification", "product name, type and version"),
    ("object_description", "object of the declaration"),
    ("conformity_route", "conformity assessment route"),
    ("place_of_issue", "place of issue"),
    ("date_of_issue", "date of issue"),
    ("signatory_name", "name of the signatory"),
    ("signatory_function", "function of the signatory"),
)


def missing_parts(facts: FileFacts) -> list[Missing]:
    """What the release's CRA file still lacks before it can be exported, in the file's order."""
    found: list[Missing] = []
    for point in facts.points:
        found += _point_missing(point)
    found += _risk_missing(facts)
    found += _support_missing(facts.support)
    for ref, _title in USER_INFORMATION_ITEMS:
        if not facts.user_information.get(ref):
            found.append(Missing(Area.USER_INFORMATION, ref, f"{ref}: no text or accepted document"))
    found += _declaration_missing(facts)
    return found


def _point_missing(point: PointFacts) -> list[Missing]:
    where = point_label(point.ref)
    if not point.assessed:
        return [Missing(Area.POINT, point.ref, f"{where}: applicability not assessed")]
    if not point.applicable:
        return []  # a recorded not-applicable point always carries its justification
    found = []
    if not point.measures.strip():
        found.append(Missing(Area.POINT, point.ref, f"{where}: no measures that implement it"))
    if point.mapped_met + point.linked_accepted == 0:
        found.append(Missing(Area.POINT, point.ref, f"{where}: no accepted evidence or claim behind it"))
    if point.other_evidence_reason and point.linked_accepted == 0:
        found.append(Missing(Area.POINT, point.ref, f"{where}: needs other evidence ({point.other_evidence_reason})"))
    return found


def _risk_missing(facts: FileFacts) -> list[Missing]:
    if facts.risk_assessment is None:
        return [Missing(Area.RISK, "", "no cybersecurity risk assessment recorded (Art. 13(2))")]
    found = [
        Missing(Area.RISK, name, f"risk assessment: no {label}")
        for name, label in RISK_FIELDS
        if not facts.risk_assessment.get(name, "").strip()
    ]
    if not facts.risk_assessment.get("expected_use_months", "").strip():
        found.append(Missing(Area.RISK, "expected_use_months", "risk assessment: no expected use time"))
    if not facts.risk_threat_model:
        found.append(
            Missing(
                Area.RISK, "threat_model", "risk assessment: not resting on an accepted threat model of the product"
            )
        )
    return found


def _support_missing(support: SupportPeriodFacts | None) -> list[Missing]:
    if support is None:
        return [Missing(Area.SUPPORT, "", "no support period recorded (Art. 13(8))")]
    found = [Missing(Area.SUPPORT, e.field, f"support period: {e.message}") for e in support_period_problems(support)]
    if not support.method.strip():
        found.append(Missing(Area.SUPPORT, "method", "support period: not said how it was set"))
    if not support.published_where.strip():
        found.append(Missing(Area.SUPPORT, "published_where", "support period: not said where it is published"))
    return found


def _declaration_missing(facts: FileFacts) -> list[Missing]:
    declaration = facts.declaration
    if declaration is None:
        return [Missing(Area.DECLARATION, "", "no EU declaration of conformity data recorded (Annex V)")]
    found = [
        Missing(Area.DECLARATION, name, f"declaration: no {label}")
        for name, label in DECLARATION_FIELDS
        if not declaration.get(name, "").strip()
    ]
    route = declaration.get("conformity_route", "")
    for error in route_problems(
        facts.category,
        route,
        declaration.get("presumption_basis", ""),
        declaration.get("presumption_basis_reference", ""),
        facts.route_rules,
    ):
        # A route chosen before the product's category or the cited standards changed.
        found.append(Missing(Area.DECLARATION, error.field, f"declaration: {error.message}"))
    if route in NOTIFIED_BODY_ROUTES:
        for name, label in (
            ("notified_body_name", "notified body's name"),
            ("notified_body_number", "notified body's number"),
            ("certificate_reference", "certificate issued"),
        ):
            if not declaration.get(name, "").strip():
                found.append(Missing(Area.DECLARATION, name, f"declaration: no {label} ({route} needs one)"))
    if route == ConformityRoute.EU_SCHEME and not declaration.get("certificate_reference", "").strip():
        found.append(Missing(Area.DECLARATION, "certificate_reference", "declaration: no certificate of the scheme"))
    return found
