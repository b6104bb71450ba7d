"""torch.nn.modules.transformer's path to the transformer modules, which are defined in tl.nn's own files."""
from ..transformer import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)
