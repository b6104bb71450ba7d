"""torch.nn.modules.loss's path to the losses and their bases _Loss and _WeightedLoss, which are defined in tl.nn's
own files."""
from ..likelihood_loss import GaussianNLLLoss, PoissonNLLLoss  # noqa: F401
from ..loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, CTCLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss, _Loss, _WeightedLoss)
from ..margin_loss import (  # noqa: F401
    CosineEmbeddingLoss, HingeEmbeddingLoss, MarginRankingLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
    MultiMarginLoss, SoftMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss)
