"""Token lengths under a model's chat template, and checks of the template itself.

Rows are rendered with the tokenizer's own chat template (``apply_chat_template``), exactly as TRL's SFTTrainer does
before training, and counted with the fast (Rust) tokenizer. Files up to ``EXACT_ROWS`` rows are counted exactly.
Larger files are counted exactly on a seeded random sample of ``SAMPLE_ROWS`` rows; the other rows are estimated
from their length in characters (a least-squares fit on the sample), and every row whose estimate, raised by the
largest under-estimate seen in the sample plus a margin, could reach the max length is counted exactly too. So the
"too long" rows and the answer tokens they lose are exact counts; only the histogram's short rows can be estimates,
and ``TokenStats.estimated`` says how many. A chat template that refuses a conversation (some refuse system turns)
is caught on every row it renders: all rows of files up to ``EXACT_ROWS``, the sample and the long rows of bigger
files.

What is tokenised is bounded: a row of more than ``char_limit(max_length)`` characters is far over the max length
whatever the tokenizer, so it is reported as too long from its length in characters (``TokenStats.oversized``) and
never tokenised; a 10 MB cell would otherwise take gigabytes. A tokenizer that panics (Rust's ``PanicException``,
which ``except Exception`` does not catch) fails that row, not the check.
"""

import functools
import json
import random
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import UserError
from workbench.models.rendering import Rendering, encode, rendering_for, strip_reasoning
from workbench.words import plural


EXACT_ROWS = 20_000
SAMPLE_ROWS = 2_000
SAFETY_MARGIN = 1.1
CHARS_PER_TOKEN_BOUND = 16  # no real text averages more characters per token than this
MAX_COUNTED_CHARS = 2_000_000  # and no row longer than this is tokenised, whatever the max length
ANSWER_SAMPLE_ROWS = 2_000  # reference answers measured for the answer length that scoring needs
MAX_ANSWER_CHARS = 16_384
CHARS_PER_TOKEN_GUESS = 4.0  # the length given to a row too long to count


@dataclass
class TokenStats:
    """Token lengths of the usable rows under one tokenizer, chat template and max length."""

    lengths: list[int] = field(default_factory=list)
    max_length: int = 1024
    estimated: int = 0
    too_long: list[int] = field(default_factory=list)
    tokens_cut: int = 0
    answer_tokens_cut: int | None = 0
    failed: dict[int, str] = field(default_factory=dict)
    oversized: list[int] = field(default_factory=list)  # too long to tokenise: lengths guessed from characters

    def counted(self) -> list[int]:
        """The lengths of the rows the template could render (for the histogram)."""
        return [length for index, length in enumerate(self.lengths) if index not in self.failed]


@functools.lru_cache(maxsize=4)
def tokenizer_for(model: str = "demo") -> Any:
    """The tokenizer of a model ('demo', a local folder or a hub id), loaded once per process; a UserError naming
    the model when it cannot be found or its tokenizer cannot be read."""
    from workbench.models import loading

    path = loading.resolve_model(model)
    try:
        return loading.load_tokenizer(path)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken tokenizer file must give a sentence, not a traceback
        raise UserError(
            f"The tokenizer of {model!r} could not be read ({str(error)[:160]}); check the model."
        ) from None


def too_long_summary(stats: TokenStats) -> str:
    """One sentence: how many records the max length cuts, and how many answer tokens training would lose."""
    count, oversized = len(stats.too_long), len(stats.oversized)
    verb = "is" if count == 1 else "are"
    if oversized == count:  # none could be tokenised: say so instead of counting zero lost tokens
        return (
            f"{plural(count, 'record')} {verb} far longer than the max length of {stats.max_length} tokens (too long "
            f"to tokenise, so measured by characters); training would cut most of {'it' if count == 1 else 'them'}. "
            "Raise the max length or drop those records."
        )
    lost = (
        plural(stats.answer_tokens_cut, "answer token")
        if stats.answer_tokens_cut is not None
        else plural(stats.tokens_cut, "token") + " (answers included)"
    )
    far = f" ({oversized:,} of them too long to tokenise, not in this count)" if oversized else ""
    return (
        f"{plural(count, 'record')} {verb} longer than the max length of {stats.max_length} tokens; training "
        f"would cut {lost} from them{far}. Raise the max length or drop those records."
    )


def char_limit(max_length: int) -> int:
    """Rows with more characters than this are far over ``max_length`` tokens and are not tokenised."""
    return min(MAX_COUNTED_CHARS, max(4096, CHARS_PER_TOKEN_BOUND * max_length))


def token_stats(rows: list[dict[str, Any]], tokenizer: Any, max_length: int, seed: int = 0) -> TokenStats:
    """Token lengths of every row (exact, or estimated for short rows of big files) and what truncation cuts."""
    stats = TokenStats(lengths=[0] * len(rows), max_length=max_length)
    chars = [_features(row)[0] for row in rows]
    stats.oversized = [index for index, count in enumerate(chars) if count > char_limit(max_length)]
    oversized = set(stats.oversized)
    countable = [index for index in range(len(rows)) if index not in oversized]
    if len(countable) <= EXACT_ROWS:
        exact = _exact_lengths(rows, countable, tokenizer, stats)
    else:
        sample = sorted(random.Random(seed).sample(countable, SAMPLE_ROWS))
        exact = _exact_lengths(rows, sample, tokenizer, stats)
        estimates, bound = _estimate(rows, exact)
        unsure = [i for i in countable if i not in exact and estimates[i] * bound >= max_length]
        exact |= _exact_lengths(rows, unsure, tokenizer, stats)
        for index in countable:
            if index not in exact and index not in stats.failed:
                stats.lengths[index], stats.estimated = max(1, round(estimates[index])), stats.estimated + 1
    for index, length in exact.items():
        stats.lengths[index] = length
    for index in stats.oversized:
        stats.lengths[index] = max(max_length + 1, round(chars[index] / CHARS_PER_TOKEN_GUESS))
    stats.estimated += len(stats.oversized)
    stats.too_long = sorted({index for index, length in exact.items() if length > max_length} | oversized)
    _count_cut_tokens(rows, tokenizer, stats)
    return stats


def row_chars(row: dict[str, Any]) -> int:
    """The characters of a row's texts (turns, tool calls and schemas), the measure of rows too long to tokenise."""
    return int(_features(row)[0])


def _features(row: dict[str, Any]) -> tuple[float, float, float]:
    """Characters, turns and a constant: what the length estimate of a row is fitted on."""
    if "text" in row:
        return float(len(row["text"])), 0.0, 1.0
    turns = row["messages"]
    chars = sum([len(turn["content"]) for turn in turns])
    if "tools" in row or any(len(turn) > 2 for turn in turns):  # tool calls or schemas add rendered text
        chars += sum(len(json.dumps(turn.get("tool_calls", ""))) for turn in turns) + len(row.get("tools", ""))
    return float(chars), float(len(turns)), 1.0


def _estimate(rows: list[dict[str, Any]], exact: dict[int, int]) -> tuple[list[float], float]:
    """Estimated lengths of all rows from a least-squares fit on the exact ones, and the safety factor to apply."""
    import numpy as np

    features = np.array([_features(row) for row in rows])
    known = np.array(sorted(exact), dtype=int)
    if len(known) < 3:  # the template refused nearly every sampled row: assume 4 characters a token, and be careful
        return np.maximum(features @ np.array([0.25, 4.0, 0.0]), 1.0).tolist(), 2.0
    targets = np.array([exact[i] for i in known], dtype=float)
    coefficients, *_ = np.linalg.lstsq(features[known], targets, rcond=None)
    estimates = np.maximum(features @ coefficients, 1.0)
    worst = float(np.max(targets / estimates[known]))
    return estimates.tolist(), max(worst, 1.0) * SAFETY_MARGIN


def answer_lengths(rows: list[dict[str, Any]], tokenizer: Any, seed: int = 0) -> list[int]:
    """Tokens a model generates to give each conversation's last answer (without its reasoning), with the token that
    ends it; on a seeded sample of ``ANSWER_SAMPLE_ROWS`` conversations of bigger files. Plain text has none."""
    answers = [row["messages"][-1] for row in rows if row.get("messages")]
    answers = [turn for turn in answers if turn.get("role") == "assistant"]
    if len(answers) > ANSWER_SAMPLE_ROWS:
        answers = random.Random(seed).sample(answers, ANSWER_SAMPLE_ROWS)
    texts = [strip_reasoning(str(turn.get("content", "")))[:MAX_ANSWER_CHARS] for turn in answers]
    try:
        return [count + 1 for count in count_tokens(texts, tokenizer)]
    except BaseException as error:
        if not panicked(error):
            raise
        return []


def row_tools(row: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A row's tool schemas as the trainer passes them to the template (parsed from their JSON text)."""
    tools = row.get("tools")
    return json.loads(tools) if isinstance(tools, str) else tools


@functools.lru_cache(maxsize=8)
def rendering_of(tokenizer: Any) -> Rendering:
    """The rendering contract the data is counted and shown under (reasoning dropped, the default); a
    RenderingError when the template cannot be used."""
    return rendering_for(tokenizer)


def render(row: dict[str, Any], tokenizer: Any) -> str:
    """The row as the model's input text: as training renders it (or the plain text)."""
    if "text" in row:
        return row["text"]
    return rendering_of(tokenizer).text(tokenizer, row)


def _render_many(rows: list[dict[str, Any]], indexes: list[int], tokenizer: Any, stats: TokenStats) -> dict[int, str]:
    """Rendered texts by row index; rows the template refuses go to ``stats.failed``."""
    plain = [i for i in indexes if "messages" in rows[i] and "tools" not in rows[i] and not _reasoned(rows[i])]
    texts: dict[int, str] = {}
    if plain:
        texts.update(zip(plain, _render_batch([rows[i]["messages"] for i in plain], tokenizer), strict=False))
    for index in indexes:
        if index not in texts:
            try:
                texts[index] = render(rows[index], tokenizer)
            except Exception as error:  # noqa: BLE001 - a template may raise anything; report it, never crash
                stats.failed[index] = str(error) or type(error).__name__
    return texts


def _render_batch(conversations: list[list[dict[str, Any]]], tokenizer: Any) -> list[str]:
    """All conversations rendered in one call, or [] when any of them fails (the caller then goes row by row)."""
    try:
        rendering = rendering_of(tokenizer)
        return rendering.render(tokenizer, conversations, **rendering.kwargs())
    except Exception:  # noqa: BLE001 - one bad row fails the batch
        return []


def _exact_lengths(rows: list[dict[str, Any]], indexes: Any, tokenizer: Any, stats: TokenStats) -> dict[int, int]:
    texts = _render_many(rows, list(indexes), tokenizer, stats)
    try:
        counts = dict(zip(texts, count_tokens(list(texts.values()), tokenizer), strict=True))
    except BaseException as error:
        if not panicked(error):
            raise
        counts = _count_one_by_one(texts, tokenizer, stats)
    eos = 1 if tokenizer.eos_token else 0
    return {i: n + (eos if "text" in rows[i] else 0) for i, n in counts.items()}


def panicked(error: BaseException) -> bool:
    """True for the Rust panic a tokenizer can raise (pyo3's PanicException, a BaseException)."""
    return type(error).__name__ == "PanicException"


def _count_one_by_one(texts: dict[int, str], tokenizer: Any, stats: TokenStats) -> dict[int, int]:
    counts = {}
    for index, text in texts.items():
        try:
            counts[index] = count_tokens([text], tokenizer)[0]
        except BaseException as error:
            if not panicked(error):
                raise
            stats.failed[index] = f"the tokenizer failed on it ({str(error)[:80]})"
    return counts


def count_tokens(texts: list[str], tokenizer: Any) -> list[int]:
    """Token counts of texts (no special tokens added), with the fast tokenizer's parallel batch encoder."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
    counts: list[int] = []
    for start in range(0, len(texts), 4096):
        counts += [len(encoding) for encoding in encode(texts[start : start + 4096], add_special_tokens=False)]
    return counts


def _count_cut_tokens(rows: list[dict[str, Any]], tokenizer: Any, stats: TokenStats) -> None:
    oversized = set(stats.oversized)
    stats.answer_tokens_cut = 0
    for index in stats.too_long:
        stats.tokens_cut += stats.lengths[index] - stats.max_length
        if "text" in rows[index]:
            stats.answer_tokens_cut += stats.lengths[index] - stats.max_length
        elif index not in oversized:
            labels = _labels(rows[index], tokenizer)
            stats.answer_tokens_cut += sum(label != -100 for label in labels[stats.max_length :])


def _labels(row: dict[str, Any], tokenizer: Any) -> list[int]:
    try:
        return encode(rendering_of(tokenizer), tokenizer, row).labels
    except Exception:  # noqa: BLE001 - the length pass already reported rows the template refuses
        return []


def _reasoned(row: dict[str, Any]) -> bool:
    return any(turn.get("role") == "assistant" and "<think>" in str(turn.get("content")) for turn in row["messages"])
