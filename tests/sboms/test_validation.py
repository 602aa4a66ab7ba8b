"""Validation details that the agreement tests do not reach: threads, paths, and the two passes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sdl_tracker.sboms.validation import Rejected, check
from tests.sboms.builders import dumps, json_bom, xml_bom

VALID = xml_bom()
INVALID = xml_bom().replace(b'type="library"', b'type="gadget"', 1)


def verdict(raw: bytes) -> str:
    try:
        check(raw)
    except Rejected as exc:
        return str(exc.violations[0])
    return "valid"


def test_threads_validating_xml_at_once_each_get_their_own_verdict() -> None:
    """lxml keeps a validator's error log on the validator, so a shared one would mix up threads."""
    documents = [VALID, INVALID] * 200
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(verdict, documents))
    assert verdicts[0::2] == ["valid"] * 200
    assert len(set(verdicts[1::2])) == 1 and "'gadget'" in verdicts[1]


def test_a_format_error_inside_a_one_of_is_format_only() -> None:
    """A license's URL sits inside a oneOf: a single pass would report the oneOf, not the format."""
    bom = json_bom()
    bom["components"][1]["licenses"] = [{"license": {"id": "MIT", "url": "git@github.com:org/licence.git"}}]
    checked = check(dumps(bom))
    assert [w.path for w in checked.warnings] == ["/components/1/licenses/0/license/url"]


def test_xml_paths_name_elements_and_their_position_among_namesakes() -> None:
    raw = xml_bom().replace(b"<licenses><expression>Apache-2.0</expression></licenses>", b"<licenses><x/></licenses>")
    assert verdict(raw).startswith("/bom/components/component[2]/licenses/x (line ")


def test_messages_explain_choices_and_name_arrays_instead_of_dumping_them() -> None:
    bom = json_bom()
    bom["components"][0]["licenses"] = [{"license": {"url": "https://example.com/licence"}}]
    assert verdict(dumps(bom)) == (
        "/components/0/licenses: matches none of the allowed forms "
        '(nearest: /0/license: matches none of the allowed forms (nearest: /: "id" is a required property))'
    )
    both = json_bom()
    both["components"][0]["licenses"] = [{"license": {"id": "MIT"}, "expression": "MIT"}]
    assert verdict(dumps(both)) == (
        "/components/0/licenses: matches none of the allowed forms "
        "(nearest: /0: Additional properties are not allowed ('expression' was unexpected))"
    )
    twice = json_bom()
    twice["components"].append(dict(twice["components"][1]))
    assert verdict(dumps(twice)) == "/components: the array has non-unique elements"


def test_xml_messages_name_elements_without_their_namespace() -> None:
    message = verdict(INVALID)
    assert "Element 'component', attribute 'type'" in message and "{http" not in message
