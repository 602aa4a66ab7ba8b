#!/usr/bin/env python3
"""Write sdl_tracker/psirt/data/cwe.json: every CWE id with its name, status and kind, from MITRE's CWE list.

    .venv/bin/python scripts/cwe_list.py cwec_v4.21.xml.zip --source-url https://cwe.mitre.org/data/xml/cwec_v4.21.xml.zip

reads MITRE's download (https://cwe.mitre.org/data/downloads.html, the XML zipped or not): its Weaknesses,
Categories and Views, and the version and date on its root. Where only an extract of that file can be had,

    .venv/bin/python scripts/cwe_list.py cwe-4.20.tsv --version 4.20 --date 2026-04-30 --source-url ... --via ...

reads one entry a line (id, kind, status, name, tab-separated) and records in `via` where the extract came from.
The JSON keeps MITRE's copyright notice and licence, which its terms of use require of any copy.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

OUT = Path(__file__).resolve().parents[1] / "sdl_tracker" / "psirt" / "data" / "cwe.json"
TERMS_URL = "https://cwe.mitre.org/about/termsofuse.html"
KINDS = {"Weaknesses": "weakness", "Categories": "category", "Views": "view"}
# MITRE's terms of use (TERMS_URL): a copy must reproduce the copyright designation and this licence.
LICENCE = (
    "CWE Usage: MITRE hereby grants you a non-exclusive, royalty-free license to use CWE for research, development, "
    "and commercial purposes. Any copy you make for such purposes is authorized on the condition that you reproduce "
    "MITRE's copyright designation and this license in any such copy. DISCLAIMERS: ALL DOCUMENTS AND THE INFORMATION "
    'CONTAINED IN THE CWE ARE PROVIDED ON AN "AS IS" BASIS AND THE CONTRIBUTOR, THE ORGANIZATION HE/SHE REPRESENTS '
    "OR IS SPONSORED BY (IF ANY), THE MITRE CORPORATION, ITS BOARD OF TRUSTEES, OFFICERS, AGENTS, AND EMPLOYEES, "
    "DISCLAIM ALL WARRANTIES, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO ANY WARRANTY THAT THE USE OF THE "
    "INFORMATION THEREIN WILL NOT INFRINGE ANY RIGHTS OR ANY IMPLIED WARRANTIES OF MERCHANTABILITY OR FITNESS FOR A "
    "PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE CONTRIBUTOR, THE ORGANIZATION HE/SHE REPRESENTS "
    "OR IS SPONSORED BY (IF ANY), THE MITRE CORPORATION, ITS BOARD OF TRUSTEES, OFFICERS, AGENTS, AND EMPLOYEES BE "
    "LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING "
    "FROM, OUT OF OR IN CONNECTION WITH THE INFORMATION OR THE USE OR OTHER DEALINGS IN THE CWE."
)

Entry = tuple[int, str, str, str]  # id, kind, status, name


def _local(tag: str) -> str:
    """An XML tag without its namespace (MITRE changes the namespace with the schema version)."""
    return tag.rsplit("}", 1)[-1]


def read_catalog(path: Path) -> tuple[str, str, list[Entry]]:
    """Version, date and entries of MITRE's CWE XML, zipped (as downloaded) or not."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            (member,) = [name for name in archive.namelist() if name.endswith(".xml")]
            root = ElementTree.fromstring(archive.read(member))
    else:
        root = ElementTree.parse(path).getroot()
    entries = [
        (int(item.attrib["ID"]), KINDS[_local(group.tag)], item.attrib["Status"], " ".join(item.attrib["Name"].split()))
        for group in root
        if _local(group.tag) in KINDS
        for item in group
    ]
    return root.attrib["Version"], root.attrib["Date"], entries


def read_extract(path: Path) -> Iterator[Entry]:
    """Entries of an extract: `id<TAB>kind<TAB>status<TAB>name` a line."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        if len(fields) != 4 or not fields[0].isdigit() or fields[1] not in KINDS.values():
            raise SystemExit(f"{path}:{number}: expected id, kind, status and name separated by tabs")
        yield int(fields[0]), fields[1], fields[2], fields[3]


def document(version: str, date: str, entries: list[Entry], source_url: str, via: str | None) -> str:
    """The JSON file: its header, then one entry a line, so that a new CWE version diffs by entry."""
    ids = [entry[0] for entry in entries]
    if len(ids) != len(set(ids)):
        raise SystemExit("the list names an id twice")
    header: dict[str, Any] = {
        "cwe_version": version,
        "cwe_date": date,
        "source_url": source_url,
        "via": via,
        "generated_on": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "generator": "scripts/cwe_list.py",
        "terms_of_use": TERMS_URL,
        "notice": f"CWE(TM) content: Copyright (c) 2006-{date[:4]}, The MITRE Corporation. CWE, CWSS, CWRAF, and the "
        f"CWE logo are trademarks of The MITRE Corporation. {LICENCE}",
    }
    lines = [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in header.items()]
    rows = [
        f'  "{number}": {json.dumps({"name": name, "status": status, "kind": kind}, ensure_ascii=False)}'
        for number, kind, status, name in sorted(entries)
    ]
    return "{\n" + "\n".join(lines) + '\n "entries": {\n' + ",\n".join(rows) + "\n }\n}\n"


def main(argv: list[str]) -> int:
    """Read the list named on the command line and write the package data file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="MITRE's cwec_v*.xml(.zip), or an extract (.tsv)")
    parser.add_argument("--source-url", required=True, help="where MITRE publishes this version of the list")
    parser.add_argument("--via", help="for an extract: the repositories and files it was taken from")
    parser.add_argument("--version", help="for an extract: the CWE list version")
    parser.add_argument("--date", help="for an extract: the CWE list date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    if args.input.suffix == ".tsv":
        if not (args.version and args.date and args.via):
            parser.error("an extract needs --version, --date and --via")
        version, date, entries = args.version, args.date, list(read_extract(args.input))
    else:
        version, date, entries = read_catalog(args.input)
    OUT.write_text(document(version, date, entries, args.source_url, args.via), encoding="utf-8")
    print(f"{OUT}: CWE list {version} of {date}, {len(entries)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
