"""junit.xml: one testcase per target x check, for Azure DevOps, GitHub Actions and Jenkins.

fail -> <failure>, error -> <error>, skip -> <skipped>; warn passes, with the warning in <system-out> and a
cifcheck.status property, since JUnit has no warning outcome. Against a baseline run (`--baseline`), each case has a
cifcheck.change property, and a failure's message starts with "New failure:" or "Still failing:", which is what CI
systems show first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from cifcheck.results import RunResult
from cifcheck.text import safe_text

# What safe_text leaves that XML 1.0 still forbids: the noncharacters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\ufffe\uffff]")


def _clean(text: str, multiline: bool = False) -> str:
    """Page text for a name, a message attribute (one line: CI systems show it as a title) or an element's text
    (multiline): controls, ESC and bidi controls escaped by safe_text. (The text is redacted already, where its
    evidence was made; the writer verifies the file.)"""
    return _NOT_XML.sub("\ufffd", safe_text(text, multiline=multiline))


# A failure's message names its change against the baseline first: regressions read as such in a CI's test list.
MESSAGE_LEADS = {"new failure": "New failure: ", "still failing": "Still failing: "}


def render_junit(result: RunResult) -> str:
    counts = result.counts
    suites = ET.Element(
        "testsuites",
        name="cifcheck",
        tests=str(sum(counts.values())),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skip"]),
        time=f"{result.duration_ms / 1000:.3f}",
    )
    for target in result.targets:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=target.target,
            tests=str(len(target.checks)),
            failures=str(target.counts["fail"]),
            errors=str(target.counts["error"]),
            skipped=str(target.counts["skip"]),
            time=f"{target.duration_ms / 1000:.3f}",
            timestamp=result.started_at,
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (("url", target.url), ("app", target.app), ("user", target.user or "")):
            ET.SubElement(properties, "property", name=name, value=_clean(value))
        for check in target.checks:
            case = ET.SubElement(suite, "testcase", classname=f"cifcheck.{target.target}", name=check.id, time="0")
            marks = [("cifcheck.status", "warn")] if check.status == "warn" else []
            marks += [("cifcheck.change", check.change)] if check.change else []
            if marks:
                case_properties = ET.SubElement(case, "properties")
                for name, value in marks:
                    ET.SubElement(case_properties, "property", name=name, value=value)
            message = _clean(MESSAGE_LEADS.get(check.change or "", "") + check.reason)
            body = _clean(f"{check.reason}\n\nWhat to do: {check.remediation}\n({check.doc_step})", multiline=True)
            if check.status == "fail":
                ET.SubElement(case, "failure", message=message, type="fail").text = body
            elif check.status == "error":
                ET.SubElement(case, "error", message=message, type="error").text = body
            elif check.status == "skip":
                ET.SubElement(case, "skipped", message=message)
            elif check.status == "warn":
                ET.SubElement(case, "system-out").text = f"WARN: {body}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
