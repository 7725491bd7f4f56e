"""Stage: fine-tune a trained model's dense layers on the user's own samples (`cnn-edge finetune`).

Public entry point: `finetune(FinetuneConfig) -> FinetuneResult`. TensorFlow is imported only
when `finetune` runs, so importing this package (as the CLI does) stays fast.
"""

from cnn_edge.finetune.config import FinetuneConfig, FinetuneResult
from cnn_edge.finetune.training import finetune

__all__ = ["FinetuneConfig", "FinetuneResult", "finetune"]
