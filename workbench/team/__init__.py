"""The team server: who is using the workbench and what they may do. Local mode (one user, the default) or team mode
(sign-in through built-in accounts, an OpenID provider or an authenticating proxy); users and roles; signed session
cookies; rate-limited sign-in; ownership and sharing of datasets and runs; API tokens; the append-only audit log.

Every rule about people lives here, so the pages, the command line and the model server obey the same ones.

May import: database, paths, errors, words.
"""
