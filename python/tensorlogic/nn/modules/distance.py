"""torch.nn.modules.distance's path to PairwiseDistance and CosineSimilarity, which are defined in tl.nn's own files."""
from ..distance import CosineSimilarity, PairwiseDistance  # noqa: F401
