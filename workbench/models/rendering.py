"""The rendering contract: how one tokenizer turns a conversation into the training sequence, the prompt that chat and
scoring send, and the token that ends an answer, all from the same chat template.

The template is the model's own when it marks answers with ``{% generation %}``, else TRL's training version of it
when TRL ships one for the family (Qwen2.5, Qwen3, Llama 3, Gemma 3, gpt-oss, Phi-3 and more: same text, and earlier
turns rendered as later ones see them), else the model's own. Whatever the template, the trained tokens are found the
same way: an answer starts where the template's prompt for it ends (the conversation up to it, rendered with the
generation prompt) and ends with the end-of-turn token. So what training learns is exactly what chat asks for, the
end-of-turn token is always learned, and a template without generation markers trains its answers too.

Reasoning blocks (``<think>...</think>``) follow one setting per run: ``drop`` (the default) trains and answers without
them: they are removed from the data, templates that know ``enable_thinking`` put their empty block into the
prompt, and a template that opens each answer with a channel header (gpt-oss's ``<|channel|>final<|message|>``) has it
written into the prompt, so the model answers straight away and an empty block is never learned as the answer;
``keep`` trains them where the data has them. Scores compare the answer without its reasoning either way.
"""

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


RENDERING_FILE = "rendering.json"  # saved beside the adapter and in a merged model's folder
GENERATION = re.compile(r"\{%-?\s*generation\s*-?%\}")
# A short exchange rendered to see how a chat template frames and closes an answer.
TEMPLATE_SAMPLE = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}]
REASONING_BLOCK = re.compile(r"^\s*(?:<think>.*?(?:</think>|$)|<think>)\s*", re.DOTALL)


class RenderingError(ValueError):
    """A chat template this contract cannot use; the message is a sentence for the user, ``code`` its kind."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rendering:
    """How one tokenizer's chat template is used for training, chat and scoring."""

    template: str
    origin: str  # in words, for the pages: which template trains the run
    reasoning: str  # "drop" or "keep"
    answer_prefix: str  # what the template writes between the prompt and an answer's text (gpt-oss: its channel)
    end_of_turn: str  # the token that closes an answer
    turn_end: str = ""  # the token that closes an earlier answer, when the template writes another (gpt-oss: <|end|>)

    def kwargs(self, has_reasoning: bool = False) -> dict[str, Any]:
        """Template arguments: without reasoning, the template's empty reasoning block belongs to the prompt."""
        return {} if self.reasoning == "keep" and has_reasoning else {"enable_thinking": False}

    def render(self, tokenizer: Any, messages: list[dict], tools: Any = None, prompt: bool = False, **kwargs) -> str:
        return tokenizer.apply_chat_template(
            messages, tools=tools, tokenize=False, add_generation_prompt=prompt, chat_template=self.template, **kwargs
        )

    @property
    def opening(self) -> str:
        """What the prompt writes after the generation prompt: without reasoning, the answer's channel header."""
        return self.answer_prefix if self.reasoning == "drop" else ""

    def prompt(self, tokenizer: Any, messages: list[dict], tools: Any = None) -> str:
        """What chat and scoring send: the conversation up to its last question, with the generation prompt."""
        if messages and messages[-1].get("role") == "assistant":
            messages = messages[:-1]
        kwargs = self.kwargs(self.reasoning == "keep")
        return self.render(tokenizer, list(messages), tools, prompt=True, **kwargs) + self.opening

    def text(self, tokenizer: Any, row: dict[str, Any]) -> str:
        """The row as training renders it."""
        messages = self.messages(row)
        return self.render(tokenizer, messages, _tools(row), **self.kwargs(any(map(_has_reasoning, messages))))

    def training_text(self, tokenizer: Any, row: dict[str, Any]) -> tuple[str, list[tuple[int, int]], int]:
        """The row as training renders it, the character spans of its answers (each ending with the end-of-turn
        token), and how many answers could not be placed (the template renders their prompt differently)."""
        messages, tools = self.messages(row), _tools(row)
        kwargs = self.kwargs(any(map(_has_reasoning, messages)))
        text = self.render(tokenizer, messages, tools, **kwargs)
        spans, unplaced = [], 0
        for index, turn in enumerate(messages):
            if turn["role"] != "assistant":
                continue
            prompt = self.render(tokenizer, messages[:index], tools, prompt=True, **kwargs) + self.opening
            end = self._answer_end(text, len(prompt)) if text.startswith(prompt) else None
            if end is None:
                unplaced += 1
                continue
            spans.append((len(prompt), end))
        return text, spans, unplaced

    def _answer_end(self, text: str, start: int) -> int | None:
        """Where the answer that starts at ``start`` ends: just after the first token that closes a turn."""
        closers = {self.end_of_turn, self.turn_end or self.end_of_turn}
        found = sorted((text.find(token, start), token) for token in closers if text.find(token, start) != -1)
        return found[0][0] + len(found[0][1]) if found else None

    def messages(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """The row's turns as training renders them: without reasoning when it is dropped."""
        if self.reasoning == "keep":
            return list(row["messages"])
        return [_without_reasoning(turn) if turn["role"] == "assistant" else turn for turn in row["messages"]]

    def answer(self, tokenizer: Any, token_ids: list[int]) -> str:
        """The text of a generated answer: its frame, end token, special tokens and reasoning taken away."""
        text = tokenizer.decode(token_ids, skip_special_tokens=False)
        text = text.removeprefix(self.answer_prefix)
        for end in (self.end_of_turn, self.turn_end, tokenizer.eos_token):
            text = text.split(end, 1)[0] if end else text
        text = strip_reasoning(text)
        for special in tokenizer.all_special_tokens:
            text = text.replace(special, "")
        return text.strip()

    def end_of_turn_id(self, tokenizer: Any) -> int:
        return tokenizer.convert_tokens_to_ids(self.end_of_turn)

    def save(self, folder: Path) -> None:
        (folder / RENDERING_FILE).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")


@dataclass(frozen=True)
class Encoded:
    """A row as training sees it: token ids, labels (-100 where nothing is learned), each token's characters."""

    input_ids: list[int]
    labels: list[int]
    offsets: list[tuple[int, int]]
    text: str
    unplaced: int = 0  # answers the template did not let the contract place (so not trained)


def encode(rendering: Rendering, tokenizer: Any, row: dict[str, Any], answers_only: bool = True) -> Encoded:
    """The token ids and labels of a row: a conversation's answers (or every token, without ``answers_only``), or
    plain text with the eos token after it."""
    if "text" in row:
        text = row["text"]
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        ids = list(encoded["input_ids"]) + eos
        return Encoded(
            ids, list(ids), [tuple(pair) for pair in encoded["offset_mapping"]] + [(len(text),) * 2] * len(eos), text
        )
    text, spans, unplaced = rendering.training_text(tokenizer, row)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(encoded["input_ids"]), [tuple(pair) for pair in encoded["offset_mapping"]]
    learned = [any(end > first and start < last for first, last in spans) for start, end in offsets]
    labels = [token if learn or not answers_only else -100 for token, learn in zip(ids, learned, strict=True)]
    return Encoded(ids, labels, offsets, text, unplaced)


def rendering_for(tokenizer: Any, reasoning: str = "drop") -> Rendering:
    """The contract for ``tokenizer`` (see the module docstring); a RenderingError when its template is missing,
    renders an answer's prompt differently from training, or never closes an answer with a special token."""
    template, origin = _template_for(tokenizer)
    probe = Rendering(template, origin, reasoning, "", "")
    try:
        prompt = probe.render(tokenizer, TEMPLATE_SAMPLE[:1], prompt=True, **probe.kwargs())
        full = probe.render(tokenizer, TEMPLATE_SAMPLE, **probe.kwargs())
    except Exception as error:  # noqa: BLE001 - a template may raise anything; it is one sentence for the page
        message = f"The model's chat template fails on a simple conversation ({str(error)[:120]}); fix the template."
        raise RenderingError("no_chat_template", message) from None
    answer = TEMPLATE_SAMPLE[1]["content"]
    if not full.startswith(prompt) or answer not in full[len(prompt) :]:
        raise RenderingError(
            "template_prompt_mismatch",
            "The model's chat template renders an answer's prompt differently in training and in chat, so the tuned "
            "model would be asked in a way it never learned; use a model with a standard chat template.",
        )
    tail = full[len(prompt) :]
    after = tail[tail.index(answer) + len(answer) :]
    specials = set(tokenizer.get_added_vocab()) | set(tokenizer.all_special_tokens)
    found = sorted((after.find(token), token) for token in specials if token and token in after)
    if not found:
        raise RenderingError(
            "template_no_end_of_turn",
            "The model's chat template does not close an answer with a special token, so the tuned model could not "
            "learn to stop; use a model whose template ends each answer with one (such as <|im_end|>).",
        )
    end_of_turn = found[0][1]
    return Rendering(
        template, origin, reasoning, tail[: tail.index(answer)], end_of_turn, _turn_end(probe, tokenizer, specials)
    )


def _turn_end(probe: Rendering, tokenizer: Any, specials: set[str]) -> str:
    """The token that closes an answer followed by more of the conversation ('' when it is the end-of-turn token or
    cannot be seen)."""
    conversation = [*TEMPLATE_SAMPLE, {"role": "user", "content": "Thanks"}]
    try:
        text = probe.render(tokenizer, conversation, **probe.kwargs())
    except Exception:  # noqa: BLE001 - a template that refuses the longer sample simply has no second closer
        return ""
    after = text[text.index(TEMPLATE_SAMPLE[1]["content"]) + len(TEMPLATE_SAMPLE[1]["content"]) :]
    found = sorted((after.find(token), token) for token in specials if token and token in after)
    return found[0][1] if found else ""


def saved_rendering(folder: Path, tokenizer: Any) -> Rendering:
    """The contract a run was trained with (saved beside its adapter), or the tokenizer's own for older folders."""
    try:
        return Rendering(**json.loads((folder / RENDERING_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return rendering_for(tokenizer)


def has_generation_markers(template: str | None) -> bool:
    """True when a chat template wraps the answers in ``{% generation %}`` markers."""
    return bool(GENERATION.search(template or ""))


def strip_reasoning(text: str) -> str:
    """The answer without a leading reasoning block (closed, or left open by a cut)."""
    return REASONING_BLOCK.sub("", text, count=1) if text.lstrip().startswith("<think>") else text


def stop_token_ids(tokenizer: Any, rendering: Rendering | None, model: Any = None) -> list[int]:
    """The ids that end an answer: the template's end-of-turn token, eos, and what the model's generation config
    stops at (Gemma's ``<end_of_turn>``, Llama 3's ``<|eot_id|>`` and ChatML's ``<|im_end|>`` are often not eos)."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if configured is not None:
        ids |= set(configured) if isinstance(configured, list | tuple) else {configured}
    if rendering is not None:
        ids |= {
            tokenizer.convert_tokens_to_ids(token) for token in (rendering.end_of_turn, rendering.turn_end) if token
        }
    return sorted(int(token) for token in ids)


def _template_for(tokenizer: Any) -> tuple[str, str]:
    own = tokenizer.chat_template
    own = own.get("default") if isinstance(own, dict) else own
    if not own:
        raise RenderingError(
            "no_chat_template",
            "The model has no chat template, so conversations cannot be put into its prompt format; pick a chat "
            "(instruct) model or one whose tokenizer includes a template.",
        )
    if has_generation_markers(own):
        return own, "the model's own chat template"
    trained, family = _trl_training_template(tokenizer)
    if trained:
        return trained, f"TRL's training version of the {family} chat template"
    return own, "the model's own chat template, answers taken from where its prompt ends"


def _trl_training_template(tokenizer: Any) -> tuple[str | None, str]:
    from trl.chat_template_utils import get_training_chat_template

    try:
        trained = get_training_chat_template(tokenizer)
    except (ValueError, TypeError):
        return None, ""
    if not trained:
        return None, ""
    import trl

    folder = Path(trl.__file__).parent / "chat_templates"
    names = [path.stem for path in folder.glob("*_training.jinja") if path.read_text(encoding="utf-8") == trained]
    family = names[0].removesuffix("_training") if names else "model's"
    return trained, FAMILY_NAMES.get(family, family)


FAMILY_NAMES = {"qwen2_5": "Qwen2.5", "qwen3": "Qwen3", "llama3": "Llama 3", "gemma3": "Gemma 3", "gptoss": "gpt-oss"}
FAMILY_NAMES |= {
    "phi3": "Phi-3",
    "phi3_5": "Phi-3.5",
    "gemma": "Gemma",
    "deepseekv3": "DeepSeek-V3",
    "cohere": "Cohere",
}
FAMILY_NAMES |= {"qwen3_5_think": "Qwen3.5 (thinking)", "qwen3_5_nothink": "Qwen3.5 (no thinking)"}
FAMILY_NAMES |= {"qwen3_instruct_2507": "Qwen3 Instruct 2507", "qwen3_6": "Qwen3.6", "qwen3_8": "Qwen3.8"}


def _tools(row: dict[str, Any]) -> Any:
    tools = row.get("tools")
    return json.loads(tools) if isinstance(tools, str) else tools


def _has_reasoning(turn: dict[str, Any]) -> bool:
    return turn.get("role") == "assistant" and (
        bool(turn.get("reasoning_content")) or "<think>" in str(turn.get("content", ""))
    )


def _without_reasoning(turn: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in turn.items() if key != "reasoning_content"}
    kept["content"] = strip_reasoning(str(turn.get("content", "")))
    return kept
