"""The web server as one ASGI app: the Streamlit pages (``app.py``) plus the sign-in and sign-out forms of built-in
accounts (``/account/signin``, ``/account/signout``). ``serve.py`` runs this file with ``streamlit run``, which
serves the ``app`` below."""

import streamlit as st

from workbench.team import signin_http


app = st.App("app.py", routes=signin_http.ROUTES)
