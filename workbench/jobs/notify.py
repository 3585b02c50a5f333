"""Telling people a run has ended: a JSON POST to ``WORKBENCH_NOTIFY_URL`` (a Slack, Mattermost, Teams or
Discord-compatible incoming webhook, or any HTTP endpoint of your own).

The body carries ``text`` (one line a chat tool shows as it is) and the facts a script would want: ``run_id``,
``state``, ``message``, ``owner`` and, with ``WORKBENCH_PUBLIC_URL`` set, a ``url`` of the Runs page. The runner
sends it from a background thread with a short timeout; a webhook that is down is logged and never holds up or
breaks the queue.
"""

import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


TIMEOUT_S = 5.0
STATE_WORDS = {
    "succeeded": "finished",
    "failed": "failed",
    "cancelled": "was cancelled",
    "interrupted": "was interrupted",
}


def payload(run_id: str, state: str, message: str, owner: str) -> dict[str, Any]:
    public_url = os.environ.get("WORKBENCH_PUBLIC_URL", "").rstrip("/")
    who = f" (started by {owner})" if owner else ""
    text = f"SFT Workbench: run {run_id}{who} {STATE_WORDS.get(state, state)}. {message}".strip()
    body: dict[str, Any] = {"text": text, "run_id": run_id, "state": state, "message": message, "owner": owner}
    if public_url:
        body["url"] = f"{public_url}/runs"
        body["text"] += f" {body['url']}"
    return body


def send(body: dict[str, Any], url: str | None = None) -> bool:
    """POST ``body`` as JSON; True on a 2xx answer. Any failure is printed (to the runner's log), not raised."""
    url = url or os.environ.get("WORKBENCH_NOTIFY_URL", "")
    where = _safe_name(url)
    if not url.startswith(("http://", "https://")):
        print(f"Not notifying: WORKBENCH_NOTIFY_URL must start with http:// or https:// ({where}).", flush=True)
        return False
    request = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"Could not notify {where}: {error}", flush=True)
        return False


def _safe_name(url: str) -> str:
    """Scheme and host only: webhook paths carry secret tokens, which must not reach the runner's log."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" if parts.hostname else "an unusable address"


def run_ended(run_id: str, state: str, message: str, owner: str) -> threading.Thread | None:
    """Send the notice for an ended run in the background (nothing when no webhook is configured)."""
    if not os.environ.get("WORKBENCH_NOTIFY_URL"):
        return None
    # Not a daemon: a runner that exits right after the run ended still finishes sending (at most TIMEOUT_S).
    thread = threading.Thread(target=send, args=(payload(run_id, state, message, owner),))
    thread.start()
    return thread
