"""tl.special: torch.special's functions by its names. Most are tl's ops under another name (expit is sigmoid,
gammaln is lgamma, psi is digamma, ...); the rest are kernels of their own (ops/special_functions.py), or are
computed in float64 on the host and rounded once: gammainc and gammaincc (ops/incomplete_gamma.py: torch.igamma and
igammac) and the orthogonal polynomials (ops/orthogonal_polynomials.py). Not here: airy_ai."""
from .ops.elementwise import erf, erfc, erfinv, log1p, round
from .ops.elementwise import sigmoid as expit
from .ops.reduction import logsumexp
from .ops.rows import log_softmax, softmax
from .ops.special import digamma, exp2, expm1, logit, polygamma, sinc, xlogy
from .ops.special import lgamma as gammaln
from .ops.incomplete_gamma import igamma as gammainc, igammac as gammaincc
from .ops.orthogonal_polynomials import (chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v,
                                         chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he,
                                         laguerre_polynomial_l, legendre_polynomial_p, shifted_chebyshev_polynomial_t,
                                         shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
                                         shifted_chebyshev_polynomial_w)
from .ops.special_functions import (bessel_j0, bessel_j1, bessel_y0, bessel_y1, entr, erfcx, i0, i0e, i1, i1e, log_ndtr,
                                    modified_bessel_k0, modified_bessel_k1, multigammaln, ndtr, ndtri,
                                    scaled_modified_bessel_k0, scaled_modified_bessel_k1, spherical_bessel_j0, xlog1py,
                                    zeta)

psi = digamma
modified_bessel_i0 = i0  # the same functions (PyTorch's modified_bessel_i* have no gradient; these do)
modified_bessel_i1 = i1

__all__ = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv",
           "exp2", "expit", "expm1", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit",
           "logsumexp", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
           "gammainc", "gammaincc", "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
           "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]
