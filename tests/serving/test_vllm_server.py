"""Tests for workbench.serving.vllm_server that need no vLLM: a model vLLM's CPU build cannot run is refused in a
sentence before anything starts, and a failed request is explained by the root cause in vLLM's log."""

import pytest

from workbench.errors import UserError
from workbench.serving.vllm_server import VllmServer, root_cause


def test_a_model_with_heads_too_small_for_vllms_cpu_kernels_is_refused_before_vllm_starts(demo_model_dir, home):
    with pytest.raises(UserError, match="needs attention heads of 32 or more dimensions and demo has 16"):
        VllmServer("demo", str(demo_model_dir), cuda=False)
    assert not (home / "serve").exists(), "nothing was started or logged"


def test_the_root_cause_is_the_error_under_vllms_death_notices(tmp_path):
    log = tmp_path / "vllm-demo.log"
    log.write_text(
        "(APIServer pid=1) INFO 12-03 20:03:37 [api_utils.py:286] non-default args: {}\n"
        "(Worker pid=2) ERROR 12-03 20:05:52 [multiproc_executor.py:1063] RuntimeError: Unsupported CPU attention "
        "configuration: head_dim=16 isa=2 kv_cache_idx=0\n"
        "(EngineCore pid=3) ERROR 12-03 20:05:52 [core.py:1512] RuntimeError: Worker failed with error 'x'\n"
        "(APIServer pid=1) ERROR 12-03 20:05:52 [async_llm.py:906] vllm.v1.engine.exceptions.EngineDeadError: "
        "EngineCore encountered an issue.\n"
    )
    assert root_cause(log) == "RuntimeError: Unsupported CPU attention configuration: head_dim=16 isa=2 kv_cache_idx=0"
    assert root_cause(tmp_path / "missing.log") == "no log"
