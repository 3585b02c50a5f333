"""``torchrun ... tests/fsdp_on_cpu.py RUN_DIR``: the training module, with accelerate told that FSDP may run on
CPUs. accelerate (1.16) honours an FSDP plugin only for GPU-like devices and otherwise drops it silently, so on this
machine, which has no GPU, the sharded path can only be tested with this one change; on a GPU server nothing is
patched. Everything else is the real training process."""

import sys
from pathlib import Path


def allow_fsdp_on_cpu() -> None:
    from accelerate.state import AcceleratorState, PartialState
    from accelerate.utils import DistributedType

    original = AcceleratorState.__init__

    def init(self, *args, fsdp_plugin=None, **kwargs):
        original(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
        if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
            self.distributed_type = PartialState._shared_state["distributed_type"] = DistributedType.FSDP
            self.fsdp_plugin = fsdp_plugin

    AcceleratorState.__init__ = init


if __name__ == "__main__":
    allow_fsdp_on_cpu()
    from workbench.training.process import main

    sys.exit(main(Path(sys.argv[1])))
