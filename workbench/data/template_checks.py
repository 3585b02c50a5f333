"""Checks of a model's chat template against a dataset: a missing template, no generation markers, an answer not
closed by an end-of-turn token, tool calls the template leaves out; and ``add_token_checks``, which adds these and
the too-long rows (``workbench.data.tokens``) to a validation report."""

import contextlib
from collections.abc import Iterator
from typing import Any

from workbench.data.problems import Problem, problem
from workbench.data.tokens import token_stats, too_long_summary
from workbench.models.chat_template import END_OF_TURN_TOKENS, TEMPLATE_SAMPLE, has_generation_markers
from workbench.words import plural


def template_problems(tokenizer: Any) -> list[Problem]:
    """Warnings about the chat template: missing, without generation markers, or without an end-of-turn token."""
    if not getattr(tokenizer, "chat_template", None):
        message = (
            "The model has no chat template, so conversations cannot be put into its prompt format; pick a chat "
            "(instruct) model or one whose tokenizer includes a template."
        )
        return [problem("no_chat_template", message)]
    found = []
    if not has_generation_markers(tokenizer):
        message = (
            "The model's chat template has no {% generation %} markers, so training cannot tell the answers from the "
            "prompts; with 'learn only from answers' switched on, training will refuse to start."
        )
        found.append(problem("template_no_generation", message))
    try:
        ends = _answer_ends_with_end_of_turn(tokenizer)
    except Exception as error:  # noqa: BLE001 - any template failure is reported, never raised
        message = f"The model's chat template fails on a simple conversation ({str(error)[:120]}); fix the template."
        return found + [problem("no_chat_template", message)]
    if not ends:
        message = (
            "The chat template does not end the assistant's answer with an end-of-turn token that training learns, "
            "so the tuned model may not know when to stop; use a template that closes each answer with one."
        )
        found.append(problem("template_no_end_of_turn", message))
    return found


def _end_ids(tokenizer: Any) -> set[int]:
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    vocab = tokenizer.get_vocab()
    return ids | {vocab[token] for token in END_OF_TURN_TOKENS if token in vocab}


def _answer_ends_with_end_of_turn(tokenizer: Any) -> bool:
    """True when the trained part of an answer ends with (or, without markers, is followed by) an end token."""
    marked = has_generation_markers(tokenizer)
    out = tokenizer.apply_chat_template(
        TEMPLATE_SAMPLE, tokenize=True, return_dict=True, return_assistant_tokens_mask=marked
    )
    ids, end_ids = list(out["input_ids"]), _end_ids(tokenizer)
    if marked:
        trained = [token for token, mask in zip(ids, out["assistant_masks"], strict=True) if mask]
        return bool(trained) and trained[-1] in end_ids
    rendered = tokenizer.apply_chat_template(TEMPLATE_SAMPLE, tokenize=False)
    tail = rendered[rendered.rfind("Hello there") :]
    return any(tokenizer.convert_ids_to_tokens(token) in tail for token in end_ids)


def add_token_checks(report: Any, tokenizer: Any, max_length: int) -> None:
    """Add template warnings, too-long warnings and template failures to a ``DataReport``; set ``report.tokens``."""
    with quiet_transformers():
        report.problems += template_problems(tokenizer) + tool_problems(report.rows, tokenizer)
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if not has_template and any("messages" in row for row in report.rows):
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
    described = sum(1 for row in rows if "tools" in row)
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
        rendered = tokenizer.apply_chat_template(chat, tools=[schema] if tools else None, tokenize=False)
    except Exception:  # noqa: BLE001 - a template that refuses tools does not show them
        return False
    return ("probe_tool_q7" if tools else "probe_call_q7") in rendered
