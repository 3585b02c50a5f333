"""Password hashing with argon2id (argon2-cffi's defaults, which follow RFC 9106), and the password rules."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workbench.errors import UserError


MIN_LENGTH = 10
MAX_LENGTH = 256  # bounds the work a sign-in form can ask of the server
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so that a sign-in takes as long for a name that does not exist.
_UNKNOWN_USER_HASH = _HASHER.hash("no user has this password, it only spends the same time")


def check_password(password: str) -> str:
    """The password, if it follows the rules."""
    if len(password) < MIN_LENGTH:
        raise UserError(f"The password is too short; use at least {MIN_LENGTH} characters (a few words will do).")
    if len(password) > MAX_LENGTH:
        raise UserError(f"The password is too long; use at most {MAX_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def verify(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash (a user without a password) never matches."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _UNKNOWN_USER_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
