"""Models loaded the way the model server loads them, in the test process: for tests that look at a run's model,
tokenizer and rendering directly rather than through HTTP."""

from collections.abc import Iterator
from contextlib import contextmanager

from workbench.serving import catalogue
from workbench.serving.store import Ready, Store
from workbench.serving.streaming import Reply, Sampling


@contextmanager
def loaded(model_id: str, store: Store | None = None) -> Iterator[Ready]:
    """The served model called ``model_id`` (a run id, or a base model's name), switched and ready."""
    store = store or Store()
    with store.ready(catalogue.find(model_id)) as ready, ready.context():
        yield ready


def reply_text(ready: Ready, messages: list[dict], max_tokens: int = 32) -> str:
    return "".join(Reply(ready.model, ready.tokenizer, ready.rendering, messages, Sampling(max_tokens=max_tokens)))
