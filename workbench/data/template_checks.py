"""Checks of a model's chat template against a dataset: a template the rendering contract cannot use (missing,
failing, rendering prompts differently from training, or never closing an answer), tool calls it leaves out; and
``add_token_checks``, which adds these and the too-long rows (``workbench.data.tokens``) to a validation report."""

import contextlib
from collections.abc import Iterator
from typing import Any

from workbench.data.problems import Problem, problem
from workbench.data.tokens import rendering_of, token_stats, too_long_summary
from workbench.models.rendering import RenderingError
from workbench.words import plural


def template_problems(tokenizer: Any) -> list[Problem]:
    """What stops the model's chat template from training these conversations: none, one that fails, one that
    renders an answer's prompt differently from training, or one that never closes an answer with a special
    token (the rendering contract, ``workbench.models.rendering``, says which)."""
    try:
        rendering_of(tokenizer)
    except RenderingError as error:
        return [problem(error.code, str(error))]
    return []


def template_origin(tokenizer: Any) -> str:
    """Which template training uses, and the token that ends an answer, as a sentence for the pages ('' when the
    template cannot be used; ``template_problems`` then says why)."""
    try:
        rendering = rendering_of(tokenizer)
    except RenderingError:
        return ""
    return (
        f"Conversations are rendered with {rendering.origin}; training learns each answer from where its prompt ends "
        f"up to {rendering.end_of_turn}, and chat stops there."
    )


def add_token_checks(report: Any, tokenizer: Any, max_length: int) -> None:
    """Add template warnings, too-long warnings and template failures to a ``DataReport``; set ``report.tokens``."""
    with quiet_transformers():
        found = template_problems(tokenizer)
        report.problems += found + (tool_problems(report.rows, tokenizer) if not found else [])
        report.template = template_origin(tokenizer)
        if found and any("messages" in row for row in report.rows):
            return
        stats = token_stats(report.rows, tokenizer, max_length)
    report.tokens = stats
    for index, error in stats.failed.items():
        row, line = report.sources[index]
        message = f"The model's chat template refuses this conversation ({error[:160]}); fix it or drop the record."
        report.problems.append(problem("template_error", message, row, line))
    report.too_long_rows = set(stats.too_long)
    oversized = set(stats.oversized)
    for index in stats.too_long:
        row, line = report.sources[index]
        length = f"about {stats.lengths[index]:,} tokens (from its characters)" if index in oversized else None
        message = (
            f"This record is {length or f'{stats.lengths[index]} tokens'} long, more than the max length of "
            f"{max_length}; the end is cut off in training. Raise the max length, shorten it, or drop it."
        )
        report.problems.append(problem("too_long", message, row, line))
    if stats.too_long:
        report.problems.append(problem("too_long", too_long_summary(stats)))


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings (e.g. 'sequence longer than the model's maximum') while counting."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def tool_problems(rows: list[dict[str, Any]], tokenizer: Any) -> list[Problem]:
    """A warning when rows call tools but the chat template leaves the calls or the tool descriptions out."""
    calls = sum(1 for row in rows if any("tool_calls" in turn for turn in row.get("messages", ())))
    described = sum(1 for row in rows if _has_tools(row))
    if not (calls or described) or not getattr(tokenizer, "chat_template", None):
        return []
    missing = []
    if calls and not _template_shows(tokenizer, tools=False):
        missing.append(f"the tool calls of {plural(calls, 'record')}")
    if described and not _template_shows(tokenizer, tools=True):
        missing.append(f"the tool descriptions of {plural(described, 'record')}")
    if not missing:
        return []
    message = (
        f"The model's chat template leaves out {' and '.join(missing)}, so training would learn empty answers in "
        "their place; use a model whose template supports tools, or drop those records."
    )
    return [problem("template_no_tools", message)]


def _has_tools(row: dict[str, Any]) -> bool:
    """True for a row that describes at least one tool (an empty list or "[]" describes none)."""
    tools = row.get("tools")
    return bool(tools) and str(tools).strip() not in ("[]", "null", "{}")


def _template_shows(tokenizer: Any, tools: bool) -> bool:
    call = {"type": "function", "function": {"name": "probe_call_q7", "arguments": '{"x": 1}'}}
    schema = {"type": "function", "function": {"name": "probe_tool_q7", "description": "d", "parameters": {}}}
    chat = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "ok"},
        {"role": "assistant", "content": "Done"},
    ]
    try:
        rendered = rendering_of(tokenizer).render(tokenizer, chat, [schema] if tools else None)
    except Exception:  # noqa: BLE001 - a template that refuses tools does not show them
        return False
    return ("probe_tool_q7" if tools else "probe_call_q7") in rendered
