"""tl.distributions.transforms: maps with tractable inverses and log-Jacobians, as torch.distributions.transforms
(the base and combinators in transform.py, elementwise maps in transforms_elementwise.py, vector and matrix maps in
transforms_structured.py)."""
from .transform import (CatTransform, ComposeTransform, IndependentTransform, ReshapeTransform, StackTransform,
                        Transform, identity_transform)
from .transforms_elementwise import (AbsTransform, AffineTransform, CumulativeDistributionTransform, ExpTransform,
                                     PowerTransform, SigmoidTransform, SoftplusTransform, TanhTransform)
from .transforms_structured import (CorrCholeskyTransform, LowerCholeskyTransform, PositiveDefiniteTransform,
                                    SoftmaxTransform, StickBreakingTransform)

__all__ = ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftplusTransform",
           "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform", "Transform",
           "identity_transform"]
