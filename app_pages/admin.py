"""Admin: who uses the devices and how much, the users and their roles, and the audit log with filters."""

import time

import streamlit as st

from app_pages._users import draw_users
from workbench import charts, words
from workbench.jobs import fairness
from workbench.team import audit, settings


st.title("Admin")

st.subheader("Device time")
hours, window, quota = fairness.usage()
holders = fairness.holders()
st.write(f"Training now: **{', '.join(holders)}**." if holders else "Nothing is training now.")
if hours:
    st.caption(f"GPU-hours (device-hours on a CPU server) per user over the last {words.days(window)}.")
    st.plotly_chart(charts.usage_figure(hours, quota), width="stretch")
else:
    st.caption(f"No training in the last {words.days(window)}.")

if settings.current().team:
    st.subheader("Users")
    draw_users()

st.subheader("Audit log")
left, middle, right = st.columns(3)
who = left.text_input("User", key="audit_user", placeholder="anyone")
action = middle.selectbox("Action", ["", *audit.ACTIONS], format_func=lambda a: a or "any", key="audit_action")
days = right.number_input("Days back", 1, 3650, 7, key="audit_days")
events = audit.events(who.strip(), action, since=time.time() - days * 86400, limit=2000)
if not events:
    st.caption("Nothing recorded with these filters.")
else:
    st.dataframe(
        [
            {
                "when": words.clock(e.at, seconds=True),
                "user": e.user,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "from": e.address,
            }
            for e in events
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(f"{len(events)} events, newest first (at most 2,000 shown; narrow the filters for older ones).")
