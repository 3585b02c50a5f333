"""Commands of team mode: users and roles, personal API tokens, and the audit log."""

import argparse
import getpass
import sys
import time
from typing import Any

from workbench import words
from workbench.cli.runs import actor
from workbench.errors import UserError
from workbench.team import audit, tokens, users
from workbench.team.identity import ROLES


def add_commands(commands: Any) -> None:
    _user_commands(commands)
    _token_commands(commands)
    log = commands.add_parser("audit", help="(Admins) the audit log, newest first.")
    log.add_argument("--of", default="", help="Only what this user did.")
    log.add_argument("--action", default="", choices=("", *audit.ACTIONS), help="Only this action.")
    log.add_argument("--days", type=float, default=30.0, help="How far back to look (default: 30 days).")
    log.set_defaults(handler=cmd_audit)


def _user_commands(commands: Any) -> None:
    parser = commands.add_parser("users", help="(Team mode) the users who may sign in, and their roles.")
    verbs = parser.add_subparsers()
    add = verbs.add_parser("add", help="Add a user; asks for a password (or reads one line from standard input).")
    add.add_argument("name")
    add.add_argument("--role", default="member", choices=ROLES)
    add.add_argument("--no-password", action="store_true", help="For people who sign in through OpenID or a proxy.")
    add.set_defaults(handler=cmd_users_add)
    remove = verbs.add_parser("remove", help="Remove a user and end their sessions; what they made stays.")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_users_remove)
    passwd = verbs.add_parser("passwd", help="Set a new password (ends the user's other sessions).")
    passwd.add_argument("name")
    passwd.set_defaults(handler=cmd_users_passwd)
    role = verbs.add_parser("role", help="Make a user an admin or a member.")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=cmd_users_role)
    verbs.add_parser("list", help="List the users.").set_defaults(handler=cmd_users_list)


def _token_commands(commands: Any) -> None:
    parser = commands.add_parser("tokens", help="Your API tokens for the model server's OpenAI-compatible API.")
    verbs = parser.add_subparsers()
    create = verbs.add_parser("create", help="Make a token; it is printed once.")
    create.add_argument("--label", default="", help="What it is for, e.g. 'notebook'.")
    create.set_defaults(handler=cmd_tokens_create)
    verbs.add_parser("list", help="Your tokens (an admin sees everyone's).").set_defaults(handler=cmd_tokens_list)
    revoke = verbs.add_parser("revoke", help="Revoke a token by its id (from the list).")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=cmd_tokens_revoke)


def read_password(prompt: str = "Password: ") -> str:
    """A password typed twice at a terminal, or one line from a pipe (for scripts); never an argument, which other
    users of the server could read in the process list."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise UserError("The two passwords differ; run the command again.")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    who = actor(args)
    password = None if args.no_password else read_password()
    source = "oidc" if args.no_password else "accounts"
    user = users.add(who, args.name, password, args.role, source)
    print(f"Added {user.name} ({user.role}).")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    users.remove(actor(args), args.name)
    print(f"Removed {args.name}; their sessions and API tokens have ended.")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    users.set_password(actor(args), args.name, read_password("New password: "))
    print(f"New password set for {args.name}; their other sessions have ended.")
    return 0


def cmd_users_role(args: argparse.Namespace) -> int:
    users.set_role(actor(args), args.name, args.role)
    print(f"{args.name} is now {'an admin' if args.role == 'admin' else 'a member'}.")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    for user in users.list_users():
        how = "password" if user.has_password else user.source
        print(f"{user.name:40} {user.role:7} {how:9} since {words.clock(user.created_at)}")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    token = tokens.create(actor(args), args.label)
    print(token)
    print("Keep it secret: it is shown only this once. Use it as the API key of the OpenAI client.", file=sys.stderr)
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    for token in tokens.list_tokens(actor(args)):
        used = words.clock(token.last_used, never="never")
        print(f"{token.id}  {token.user:30} {token.label:24} made {words.clock(token.created_at)}, used {used}")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    tokens.revoke(actor(args), args.token_id)
    print(f"Token {args.token_id} revoked.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    who = actor(args)
    if not who.admin:
        raise UserError("Only an admin can read the audit log.")
    for event in audit.events(args.of, args.action, since=time.time() - args.days * 86400):
        where = f" from {event.address}" if event.address else ""
        when = words.clock(event.at, seconds=True)
        print(f"{when}  {event.user:24} {event.action:16} {event.target} {event.detail}{where}")
    return 0
