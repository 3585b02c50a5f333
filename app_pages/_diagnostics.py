"""Drawing diagnostics findings: errors in red, warnings in amber, each with its fix (shared by Runs and Compare)."""

import streamlit as st

from workbench.results.diagnostics import Finding


def draw_findings(findings: list[Finding] | tuple[Finding, ...], healthy_text: str = "") -> None:
    """One box per finding; ``healthy_text`` (if any) when there is none."""
    if not findings and healthy_text:
        st.success(healthy_text, icon=":material/check_circle:")
    for finding in findings:
        show = st.error if finding.severity == "error" else st.warning
        icon = ":material/error:" if finding.severity == "error" else ":material/warning:"
        show(f"{finding.message} **Fix:** {finding.fix}", icon=icon)
