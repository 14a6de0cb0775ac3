"""Write the bad-input corpus: one folder per case (files overlaid on tests/sites.BASE).

Run `python3 tests/bad_inputs/make_cases.py` after editing CASES; then fill in or
review each case's expected.txt (`python3 tests/bad_inputs/make_cases.py --record`
prints what okrsite reports now, to review by hand — never accept it blindly).

Layout of a case folder:
  files/<site path>   bytes overlaid on BASE (written verbatim, no dedent)
  delete.txt          BASE paths to remove, one a line (optional)
  args.txt            extra CLI arguments, e.g. --strict (optional)
  expected.txt        first line `exit: N`; then one line per diagnostic:
                      `path:line: CODE fragment-of-the-message`
Cases that need the file system (symlinks, FIFOs, huge files) are built in
tests/test_bad_inputs.py (SPECIAL) and have only expected.txt here.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPS = "content/teams/ops.md"
OPS_TEAM = "---\nname: Ops\nparent: company\nlead: Olu Ade\n---\nOps runs things.\n"
OKRS = "content/cycles/2026-Q4/ops.md"
SALES_OKRS = "content/cycles/2026-Q4/sales.md"
COMPANY_OKRS = "content/cycles/2026-Q4/company.md"
CHECKIN = "content/cycles/2026-Q4/sales/2026-11-07.md"


def okrs(kr_lines: str, objective_extra: str = "") -> dict[str, str]:
    """Ops team + an ops OKR file with one objective aligned to company/revenue."""
    return {
        OPS: OPS_TEAM,
        OKRS: (
            "---\n"
            "objectives:\n"
            "  - id: uptime\n"
            "    title: Customers can rely on us\n"
            "    aligns_to: company/revenue\n"
            f"{objective_extra}"
            "    key_results:\n"
            "      - id: availability\n"
            "        title: Availability reaches 99.9%\n"
            "        start: 99\n"
            "        target: 99.9\n"
            f"{kr_lines}"
            "---\n"
        ),
    }


def kr(**fields: str) -> str:
    """A second KR of the ops objective, with fields given as raw YAML text."""
    base = {"id": "mttr", "title": "Recovery time falls to 30 minutes"}
    base |= {"start": "120", "target": "30"}
    base.update(fields)
    lines = ""
    for key, value in base.items():
        lead = "      - " if not lines else "        "
        if value is not None:
            lines += f"{lead}{key}: {value}\n"
    return lines


def checkin(updates: str, head: str = "author: Dana Ruiz\n") -> dict[str, str]:
    return {CHECKIN: f"---\n{head}updates:\n{updates}---\nSales check-in.\n"}


def team(front: str) -> dict[str, str]:
    return {OPS: f"---\n{front}---\n"}


CASES: dict[str, dict[str, str | bytes]] = {
    # --- YAML syntax -------------------------------------------------------
    "yaml-unclosed-flow-list": team("name: Ops\nparent: company\nmembers: [Ann, Bo\n"),
    "yaml-unclosed-flow-map": team("name: Ops\nparent: {a: 1\n"),
    "yaml-bad-indent": team("name: Ops\nparent: company\n  lead: Olu\n"),
    "yaml-unclosed-quote": team('name: "Ops\nparent: company\n'),
    "yaml-colon-in-value": team("name: Ops: the team\nparent: company\n"),
    "yaml-list-after-map": team("name: Ops\nparent: company\n- Olu\n"),
    "yaml-bad-escape": team('name: "Ops \\q"\nparent: company\n'),
    "yaml-extra-bracket": team("name: Ops\nparent: company\nmembers: [Ann]]\n"),
    "yaml-tab-indent": team("name: Ops\nparent: company\n\tlead: Olu\n"),
    "yaml-tab-in-list": team("name: Ops\nparent: company\nmembers:\n\t- Ann\n"),
    "yaml-control-char": team("name: Ops\x07\nparent: company\n"),
    "yaml-anchor-alias": team("name: &n Ops\nparent: company\nlead: *n\n"),
    "yaml-merge-key": checkin("  pipeline-value: &u {value: 1}\n  partner-program:\n    <<: *u\n"),
    "yaml-python-tag": team("name: !!python/object/apply:os.system [echo hi]\nparent: company\n"),
    "yaml-local-tag": team("name: !shout Ops\nparent: company\n"),
    "yaml-complex-key": team("name: Ops\nparent: company\n? [a, b]\n: c\n"),
    "yaml-duplicate-key": team("name: Ops\nparent: company\nname: Operations\n"),
    "yaml-duplicate-key-nested": checkin(
        "  pipeline-value: {value: 1}\n  partner-program: {progress: 0.5}\n"
        "  pipeline-value: {value: 2}\n"
    ),
    "yaml-duplicate-key-flow": checkin("  pipeline-value: {value: 1, value: 2}\n"),
    # --- encodings, line endings, file shape -------------------------------
    "bom-works": {OPS: b"\xef\xbb\xbf" + OPS_TEAM.encode()},
    "crlf-works": {OPS: OPS_TEAM.replace("\n", "\r\n").encode()},
    "crlf-error-line": {OPS: b"---\r\nname: Ops\r\nparent: company\r\nleed: Olu\r\n---\r\n"},
    "cr-only-works": {OPS: OPS_TEAM.replace("\n", "\r").encode()},
    "not-utf8-latin1": {OPS: b"---\nname: Ops\nlead: Ren\xe9e\nparent: company\n---\n"},
    "not-utf8-utf16": {OPS: OPS_TEAM.encode("utf-16")},
    "empty-file": {OPS: b""},
    "blank-file": {OPS: b"  \n\n \n"},
    "front-matter-empty": {OPS: b"---\n---\nJust a body.\n"},
    "front-matter-list": team("- name: Ops\n- parent: company\n"),
    "front-matter-string": team("Ops is a team\n"),
    "front-matter-number": team("42\n"),
    "front-matter-not-closed": {OPS: b"---\nname: Ops\nparent: company\n\nOps runs things.\n"},
    "no-front-matter": {OPS: b"# Ops\n\nOps runs things.\n"},
    "front-matter-after-blank-line": {OPS: b"\n---\nname: Ops\nparent: company\n---\n"},
    "toml-front-matter": {OPS: b'+++\nname = "Ops"\nparent = "company"\n+++\n'},
    "nul-byte": {OPS: b"---\nname: Ops\nparent: company\nlead: a\x00b\n---\n"},
    # --- YAML 1.1 surprises (YAML 1.2 core schema: these work) --------------
    "yaml11-no-on-are-text": team("name: no\nparent: company\nlead: on\nmembers: [yes, off, y]\n"),
    "yaml11-version-unit-is-text": okrs(kr(unit="1.10")),
    "yaml11-date-title-is-text": okrs(kr(title="2026-11-14")),
    "yaml11-octal-0777": okrs(kr(start="0777")),
    "yaml11-leading-zero-010": okrs(kr(target="010")),
    "yaml11-underscore-number": okrs(kr(start="1_000")),
    "yaml11-inf": okrs(kr(target=".inf")),
    "yaml11-nan": okrs(kr(start=".nan")),
    "yaml11-yes-as-number": checkin("  pipeline-value: {value: yes}\n"),
    "yaml11-on-as-bool": checkin("  partner-program: {done: on}\n"),
    "yaml11-sexagesimal": okrs(kr(target="1:30")),
    # --- wrong types and ranges -------------------------------------------
    "bool-where-number": okrs(kr(target="true")),
    "list-where-number": okrs(kr(target="[1, 2]")),
    "quoted-number": okrs(kr(target='"30"')),
    "mapping-where-text": okrs(kr(unit="{a: 1}")),
    "negative-confidence": checkin("  pipeline-value: {value: 1, confidence: -0.1}\n"),
    "progress-above-one": checkin("  partner-program: {progress: 1.5}\n"),
    "weight-zero": okrs(kr(weight="0")),
    "weight-negative": okrs(kr(weight="-2")),
    "huge-number": okrs(kr(target="1e300")),
    "huge-integer": okrs(kr(target="99999999999999999999999")),
    "negative-start-works": okrs(kr(start="-40", target="-10")),
    "members-not-list": team("name: Ops\nparent: company\nmembers: Ann\n"),
    "members-list-of-maps": team("name: Ops\nparent: company\nmembers:\n  - {name: Ann}\n"),
    "kind-unknown": okrs(kr(), "    kind: stretch\n"),
    "type-unknown": okrs(kr(type="milestones")),
    "date-not-padded": checkin("  pipeline-value: {value: 1}\n", "date: 2026-11-7\n"),
    "date-impossible": checkin("  pipeline-value: {value: 1}\n", "date: 2026-02-30\n"),
    "unknown-field-typo": okrs(kr(titel="Recovery")),
    "unknown-team-field": team("name: Ops\nparent: company\nleader: Olu\n"),
    "missing-title": {
        OPS: OPS_TEAM,
        OKRS: "---\nobjectives:\n  - id: uptime\n    key_results:\n      - id: a\n"
        "        title: A goes up\n        start: 0\n        target: 1\n---\n",
    },
    "empty-title": okrs(kr(title='""')),
    "missing-target": okrs(kr(target=None)),
    "start-equals-target": okrs(kr(start="30", target="30.0")),
    "milestone-with-start": okrs(kr(type="milestone", target=None)),
    "objectives-empty": {OPS: OPS_TEAM, OKRS: "---\nobjectives: []\n---\n"},
    "objectives-mapping": {OPS: OPS_TEAM, OKRS: "---\nobjectives:\n  uptime: {title: x}\n---\n"},
    "key-result-is-text": okrs("      - Recovery is faster\n"),
    "objectives-missing": {OPS: OPS_TEAM, OKRS: "---\ntitle: Ops OKRs\n---\n"},
    "updates-empty": {CHECKIN: "---\nauthor: Dana Ruiz\nupdates: {}\n---\n"},
    "update-gives-nothing": checkin("  pipeline-value: {}\n"),
    "update-not-mapping": checkin("  pipeline-value: 320000\n"),
    "value-for-milestone": checkin("  partner-program: {value: 3}\n"),
    "progress-for-metric": checkin("  pipeline-value: {progress: 0.5}\n"),
    # --- ids ---------------------------------------------------------------
    "id-with-space": okrs(kr(id="mean time")),
    "id-capitals": okrs(kr(id="MTTR")),
    "id-unicode": okrs(kr(id="café")),
    "id-dot-dot": okrs(kr(id="..")),
    "id-slash": okrs(kr(id="ops/mttr")),
    "id-too-long": okrs(kr(id="a" * 65)),
    "id-leading-dash": okrs(kr(id="-mttr")),
    "id-empty": okrs(kr(id='""')),
    "id-number-works": okrs(kr(id="42")),
    "team-file-capitals": {"content/teams/Ops.md": OPS_TEAM},
    "team-file-space": {"content/teams/my ops.md": OPS_TEAM},
    "team-file-unicode": {"content/teams/équipe.md": OPS_TEAM},
    "cycle-folder-space": {"content/cycles/Q4 2026/company.md": "---\nobjectives: []\n---\n"},
    "duplicate-objective-id": {
        OPS: OPS_TEAM,
        OKRS: "---\nobjectives:\n"
        + (
            "  - id: uptime\n    title: Customers can rely on us\n    aligns_to: company/revenue\n"
            "    key_results:\n      - id: KR\n        title: Availability reaches 99.9%\n"
            "        start: 99\n        target: 99.9\n"
        ).replace("KR", "a")
        + (
            "  - id: uptime\n    title: Customers can rely on us\n    aligns_to: company/revenue\n"
            "    key_results:\n      - id: KR\n        title: Availability reaches 99.9%\n"
            "        start: 99\n        target: 99.9\n"
        ).replace("KR", "b")
        + "---\n",
    },
    "duplicate-kr-id": okrs(kr(id="availability")),
    # --- references and cycles (FORMAT.md §7) -------------------------------
    "unknown-parent": team("name: Ops\nparent: compnay\n"),
    "no-root-team": {"content/teams/company.md": "---\nname: Acme\nparent: holding\n---\n"},
    "two-root-teams": team("name: Ops\n"),
    "parent-loop": {
        OPS: "---\nname: Ops\nparent: dev\n---\n",
        "content/teams/dev.md": "---\nname: Dev\nparent: ops\n---\n",
    },
    "parent-self": team("name: Ops\nparent: ops\n"),
    "aligns-to-unknown-team": {
        OPS: OPS_TEAM,
        OKRS: okrs(kr())[OKRS].replace("company/revenue", "finance/revenue"),
    },
    "aligns-to-unknown-objective": {
        OPS: OPS_TEAM,
        OKRS: okrs(kr())[OKRS].replace("company/revenue", "company/revenu"),
    },
    "aligns-to-bad-form": {
        OPS: OPS_TEAM,
        OKRS: okrs(kr())[OKRS].replace("company/revenue", "revenue"),
    },
    "aligns-to-self": {
        OPS: OPS_TEAM,
        OKRS: okrs(kr())[OKRS].replace("company/revenue", "ops/uptime"),
    },
    "aligns-to-loop": {
        OPS: OPS_TEAM,
        OKRS: okrs(kr())[OKRS].replace("company/revenue", "sales/pipeline"),
        SALES_OKRS: (
            "---\nobjectives:\n  - id: pipeline\n    title: Build a pipeline that makes the year\n"
            "    aligns_to: ops/uptime\n    key_results:\n      - id: pipeline-value\n"
            "        title: Keep a qualified pipeline worth $500K\n        start: 0\n"
            "        target: 500000\n      - id: partner-program\n"
            "        title: Partner program live with three partners\n        type: milestone\n---\n"
        ),
    },
    "aligns-to-other-cycle": {
        OPS: OPS_TEAM,
        OKRS: okrs(kr())[OKRS],
        "content/cycles/2027-Q1/ops.md": okrs(kr())[OKRS],
    },
    "okrs-unknown-team": {"content/cycles/2026-Q4/ghost.md": okrs(kr())[OKRS]},
    "checkin-unknown-team": {
        "content/cycles/2026-Q4/ghost/2026-11-01.md": "---\nupdates:\n  arr: {value: 1}\n---\n"
    },
    "checkin-unknown-kr": checkin("  pipeline-valu: {value: 1}\n"),
    "checkin-team-without-okrs": {
        OPS: OPS_TEAM,
        "content/cycles/2026-Q4/ops/2026-11-01.md": "---\nupdates:\n  uptime: {value: 1}\n---\n",
    },
    "cycle-year-9999-works": {
        "content/cycles/9999/company.md": okrs(kr())[OKRS].replace("    aligns_to: company/revenue\n", ""),
        "content/cycles/9999/company/9999-12-31.md": "---\nupdates:\n  mttr: {value: 60}\n---\n",
        "content/cycles/0001-Q1/company.md": okrs(kr())[OKRS].replace("    aligns_to: company/revenue\n", ""),
        "content/cycles/0001-Q1/company/0001-01-01.md": "---\nupdates:\n  mttr: {value: 60}\n---\n",
    },
    "cycle-undeclared": {"content/cycles/sprint-1/company.md": okrs(kr())[OKRS]},
    "cycle-lowercase": {"content/cycles/2026-q4/company.md": okrs(kr())[OKRS]},
    "checkin-outside-cycle": {
        "content/cycles/2026-Q4/sales/2026-09-30.md": "---\nupdates:\n  pipeline-value: {value: 1}\n---\n"
    },
    "checkin-date-differs": checkin("  pipeline-value: {value: 1}\n", "date: 2026-11-08\n"),
    "checkin-name-not-date": {
        "content/cycles/2026-Q4/sales/nov-14.md": "---\nupdates:\n  pipeline-value: {value: 1}\n---\n"
    },
    "checkin-name-impossible-date": {
        "content/cycles/2026-Q4/sales/2026-11-31.md": "---\nupdates:\n  pipeline-value: {value: 1}\n---\n"
    },
    "checkin-name-suffix": {
        "content/cycles/2026-Q4/sales/2026-11-12-draft.md": "---\nupdates:\n  pipeline-value: {value: 1}\n---\n"
    },
    "checkin-name-compact": {
        "content/cycles/2026-Q4/sales/20261112.md": "---\nupdates:\n  pipeline-value: {value: 1}\n---\n"
    },
    # --- files in the wrong place ---------------------------------------
    "team-file-wrong-folder": {"content/team/ops.md": OPS_TEAM},
    "team-file-in-content-root": {"content/ops.md": OPS_TEAM},
    "file-too-deep": {
        "content/cycles/2026-Q4/sales/notes/2026-11-01.md": "---\nupdates: {}\n---\n"
    },
    "editor-droppings-ignored": {
        "content/teams/ops.md~": b"garbage\xff",
        "content/teams/.ops.md.swp": b"\x00\x01",
        "content/teams/#ops.md#": b"x",
        "content/teams/4913": b"",
        "content/teams/notes.txt": b"not markdown",
    },
    # --- okrsite.toml ---------------------------------------------------------
    "config-toml-syntax": {"okrsite.toml": '[site]\ntitle = "Acme\n'},
    "config-missing-title": {"okrsite.toml": '[site]\ntheme = "default"\n'},
    "config-theme-traversal": {"okrsite.toml": '[site]\ntitle = "Acme"\ntheme = "../../etc"\n'},
    "config-bom-crlf-works": {"okrsite.toml": b'\xef\xbb\xbf[site]\r\ntitle = "Acme OKRs"\r\n'},
    "config-raw-html-unknown": {"okrsite.toml": '[site]\ntitle = "Acme"\nraw_html = "allow"\n'},
    "config-repo-url-javascript": {
        "okrsite.toml": '[site]\ntitle = "Acme"\nrepo_url = "javascript:alert(1)"\n'
    },
    # --- warnings (exit 0) and --strict ------------------------------------
    "warning-task-kr": okrs(kr(title="Launch the status page")),
    "warning-strict": okrs(kr(title="Launch the status page")) | {"args.txt": "--strict\n"},
}

# Built by tests/test_bad_inputs.py (they need the file system); expected.txt only.
SPECIAL = [
    "symlink-loop",
    "symlink-out-of-site",
    "symlink-folder",
    "fifo",
    "folder-named-md",
    "huge-file-10mb",
    "unreadable-as-nobody",
]


def write_cases() -> None:
    for name, files in CASES.items():
        folder = HERE / name
        expected = folder / "expected.txt"
        keep = expected.read_text() if expected.exists() else None
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        for rel, content in files.items():
            if rel == "args.txt":
                (folder / rel).write_text(content)
                continue
            target = folder / "files" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        if keep is not None:
            expected.write_text(keep)
    for name in SPECIAL:
        (HERE / name).mkdir(exist_ok=True)


if __name__ == "__main__":
    write_cases()
    if "--record" in sys.argv:
        sys.path.insert(0, str(HERE.parent.parent))
        from tests.test_bad_inputs import record_all

        record_all()
