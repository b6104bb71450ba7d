"""torch.nn.modules.sparse's path to Embedding and EmbeddingBag, which are defined in tl.nn's own files."""
from ..embedding_bag import EmbeddingBag  # noqa: F401
from ..layers import Embedding  # noqa: F401
