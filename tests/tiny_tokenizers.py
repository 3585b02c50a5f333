"""Tiny BPE tokenizers with chat templates, built in a second with the demo model's recipe, for tests that need a
tokenizer but neither the demo model nor the network."""

from workbench.models.demo import train_bpe_tokenizer


CHATML = (
    "{% for message in messages %}{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}{% else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
WITHOUT_MARKERS = CHATML.replace("{% generation %}", "").replace("{% endgeneration %}", "")
WITHOUT_END = (
    "{% for message in messages %}{{ message['role'] + ': ' }}{% if message['role'] == 'assistant' %}"
    "{% generation %}{{ message['content'] }}{% endgeneration %}{% else %}{{ message['content'] }}{% endif %}"
    "{{ '\\n' }}{% endfor %}"
)
NO_SYSTEM = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" + CHATML
)


def build_tokenizer(template: str | None):
    corpus = [f"question {i} answer {i} the cat sat on the mat hello there" for i in range(200)]
    return train_bpe_tokenizer(corpus, vocab_size=300, chat_template=template)


def chat(i: int, answer_words: int = 3) -> dict:
    answer = " ".join(["answer"] * answer_words) + f" {i}"
    return {"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": answer}]}


def tokenizer_folder(folder):
    """A folder the workbench accepts as a model for token counts: a tiny ChatML tokenizer and a config.json."""
    import json

    build_tokenizer(CHATML).save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    return folder
