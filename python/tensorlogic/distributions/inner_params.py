"""Distributions defined over an inner Bernoulli or Categorical that holds their parameters (the relaxed ones,
Multinomial, OneHotCategorical): probs, logits, param_shape and expand read through it, written once here."""


class InnerParams:
    """Mixin, before Distribution among the bases: `self._params` is the inner distribution."""

    def expand(self, batch_shape, _instance=None):
        """The inner distribution expanded to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new._params = self._params.expand(new.batch_shape)
        return new

    @property
    def probs(self):
        """The inner distribution's probabilities."""
        return self._params.probs

    @property
    def logits(self):
        """The inner distribution's log-odds (Bernoulli) or normalised log-probabilities (Categorical)."""
        return self._params.logits

    @property
    def param_shape(self):
        """The shape of probs and logits."""
        return self._params.param_shape
