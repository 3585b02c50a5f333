"""How the model server writes each model's prompts: a run's own saved tokenizer and rendering contract (the prompt
format it was trained with; its checkpoints were trained with the same), or a base model's template with the run's
reasoning setting. Tokenizers only, no weights: every engine renders prompts here, so all of them prompt alike."""

from typing import Any

from workbench.config import RunConfig
from workbench.errors import UserError
from workbench.models import loading
from workbench.models.rendering import Rendering, RenderingError, rendering_for, saved_rendering
from workbench.serving.catalogue import Served


class Renderings:
    """Tokenizers and renderings, each loaded once."""

    def __init__(self) -> None:
        self.runs: dict[str, tuple[Any, Rendering]] = {}
        self.bases: dict[str, Any] = {}

    def of_run(self, served: Served) -> tuple[Any, Rendering]:
        run_id = served.run.run_id
        if run_id not in self.runs:
            folder = served.run.adapter_dir
            tokenizer = loading.load_tokenizer(str(folder))
            try:
                self.runs[run_id] = (tokenizer, saved_rendering(folder, tokenizer))
            except RenderingError as error:
                raise UserError(str(error)) from None
        return self.runs[run_id]

    def of_base(self, base: str, reasoning: str | None) -> tuple[Any, Rendering]:
        if base not in self.bases:
            self.bases[base] = loading.load_tokenizer(loading.resolve_model(base))
        return self.bases[base], base_rendering(self.bases[base], reasoning)

    def of(self, served: Served, reasoning: str | None) -> tuple[Any, Rendering]:
        """The tokenizer and rendering ``served`` answers with."""
        return self.of_base(served.base, reasoning) if served.run is None else self.of_run(served)


def base_rendering(tokenizer: Any, reasoning: str | None) -> Rendering:
    try:
        return rendering_for(tokenizer, reasoning or RunConfig().reasoning)
    except RenderingError as error:
        raise UserError(str(error)) from None
