"""Tests for workbench.model_facts: parameter counts from config.json match the real models, and bad folders are
explained. No test loads weights: real counts come from models built on PyTorch's "meta" device."""

import pytest
from model_shapes import LLAMA2_7B, LLAMA31_8B, write_config

from workbench.errors import UserError
from workbench.planning.model_facts import facts_from_config, lora_params, model_facts


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(("LlamaConfig", LLAMA2_7B), id="llama2-7b"),
        pytest.param(("LlamaConfig", LLAMA31_8B), id="llama3.1-8b-gqa"),
        pytest.param(("LlamaConfig", {**LLAMA2_7B, "hidden_size": 64, "intermediate_size": 128,
                                      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
                                      "vocab_size": 1000, "tie_word_embeddings": True}), id="tiny-tied"),
        pytest.param(("Qwen2Config", {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
                                      "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
                                      "tie_word_embeddings": True}), id="qwen2.5-0.5b-qkv-bias"),
        pytest.param(("GPT2Config", {}), id="gpt2"),
        pytest.param(("MixtralConfig", {"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
                                        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1000,
                                        "num_local_experts": 4, "num_experts_per_tok": 2}), id="mixtral-moe"),
    ],
)  # fmt: skip
def test_parameter_count_from_config_json_matches_the_real_model(tmp_path, shape):
    import torch
    import transformers

    class_name, values = shape
    values = {key: value for key, value in values.items() if key != "model_type"}
    hf_config = getattr(transformers, class_name)(**values)
    hf_config.save_pretrained(tmp_path)  # writes config.json only: no weights anywhere
    with torch.device("meta"):
        real = sum(p.numel() for p in transformers.AutoModelForCausalLM.from_config(hf_config).parameters())
    facts = model_facts(str(tmp_path))
    assert facts.n_params == real
    assert facts.n_layers == hf_config.num_hidden_layers and facts.hidden_size == hf_config.hidden_size


def test_a_config_json_transformers_does_not_know_is_read_as_plain_json(tmp_path):
    facts = model_facts(write_config(tmp_path / "custom", {**LLAMA2_7B, "model_type": "my-own-llama"}))
    assert facts.n_params == 6_738_415_616  # Llama-2-7B
    assert facts.vocab_size == 32000 and facts.n_layers == 32


def test_a_config_without_sizes_is_a_plain_user_error(tmp_path):
    with pytest.raises(UserError, match="hidden size"):
        model_facts(write_config(tmp_path / "odd", {"model_type": "my-own-llama", "vocab_size": 10}))


def test_lora_parameters_match_peft_and_the_published_count(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    small = {**LLAMA31_8B, "hidden_size": 128, "intermediate_size": 320, "num_hidden_layers": 2, "vocab_size": 500}
    hf_config = LlamaConfig(**{key: value for key, value in small.items() if key != "model_type"})
    with torch.device("meta"):
        model = get_peft_model(LlamaForCausalLM(hf_config), LoraConfig(r=8, target_modules="all-linear"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert lora_params(facts_from_config(small), 8) == trainable
    # performance.md §2.3: LoRA r=16 on all linear layers of Llama-3.1-8B = 41.9M parameters
    assert lora_params(facts_from_config(LLAMA31_8B), 16) == pytest.approx(41.9e6, rel=0.01)
    only_qv = lora_params(facts_from_config(LLAMA31_8B), 16, "q_proj, v_proj")
    assert only_qv == 32 * 16 * ((4096 + 4096) + (4096 + 1024))


def test_a_folder_without_config_is_a_plain_user_error(tmp_path):
    with pytest.raises(UserError, match="could not be read"):
        model_facts(str(tmp_path / "nothing-here"))


def test_built_in_demo_model_shape_counts_exactly(tmp_path, home):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from workbench.models import demo  # checked on its shape: no model is built

    hf_config = LlamaConfig(vocab_size=demo.TOKENIZER_VOCAB_SIZE, tie_word_embeddings=True, **demo.MODEL_SHAPE)
    hf_config.save_pretrained(tmp_path)
    with torch.device("meta"):
        real = sum(p.numel() for p in LlamaForCausalLM(hf_config).parameters())
    assert model_facts(str(tmp_path)).n_params == real
    assert model_facts("demo").n_params == pytest.approx(real, rel=0.05)  # the built copy's vocabulary may differ
