"""Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer) with PyTorch's arguments, submodule
names (so state_dicts load both ways), post-norm and pre-norm (norm_first) blocks, masks and batch_first;
attention is the existing MultiheadAttention."""
import copy

from ..creation import full
from ..ops.linalg import triu
from . import functional as F
from . import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .layers import LayerNorm, Linear, check_parameter_room
from .module import Module

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation):
    if callable(activation):
        return activation
    if activation not in _ACTIVATIONS:
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return _ACTIVATIONS[activation]


def _clones(module, n):
    """n deep copies of module; a MemoryError first where their parameters and buffers (and the modules, each
    counted as one tensor) cannot fit the device: num_layers=2**63 copied layers until memory ran out."""
    tensors = list(module.parameters()) + list(module.buffers())
    device = tensors[0].device if tensors else None
    check_parameter_room(n * sum(t.numel() for t in tensors), n * (len(tensors) + len(list(module.modules()))), device)
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The causal mask: -inf above the diagonal, 0 elsewhere (added to attention scores)."""
    return triu(full((sz, sz), float("-inf"), device=device), 1)


class _Block(Module):
    """What the encoder and decoder layers share: self-attention, the feed-forward sublayer and one
    LayerNorm and Dropout per sublayer (`sublayers`: 2, or 3 with the decoder's cross-attention),
    registered in PyTorch's order."""

    def __init__(self, sublayers, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                 norm_first, bias, device):
        super().__init__()
        for name in ("self_attn", "multihead_attn")[:sublayers - 1]:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                   device=device))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device)
        self.norm_first = norm_first
        for i in range(1, sublayers + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device))
        for i in range(1, sublayers + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, dropout):
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_Block):
    """One encoder block, as torch.nn.TransformerEncoderLayer: self-attention (MultiheadAttention) then the
    feed-forward linear1 -> activation ("relu", "gelu" or a callable) -> dropout -> linear2, each sublayer with
    dropout, a residual connection and a LayerNorm, applied after the residual (post-norm, the default) or before
    the sublayer (norm_first=True). Inputs are [S, N, E] ([N, S, E] with batch_first). dtype is accepted and
    ignored (every float is f16)."""
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__(2, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, device)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src through the block, same shape out. src_mask (float: added to the scores; bool: True may not be
        attended) and src_key_padding_mask (N, S) go to the self-attention; is_causal=True without a mask
        attends only to earlier positions."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Block):
    """One decoder block, as torch.nn.TransformerDecoderLayer: self-attention over the target, cross-attention
    (multihead_attn) to the encoder's memory, then the feed-forward linear1 -> activation ("relu", "gelu" or a
    callable) -> dropout -> linear2, each sublayer with dropout, a residual connection and a LayerNorm (post-norm,
    or pre-norm with norm_first=True). Inputs are [T, N, E] ([N, T, E] with batch_first). dtype is accepted and
    ignored (every float is f16)."""
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__(3, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, device)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """tgt through the block, attending to memory; same shape as tgt out. tgt_mask and tgt_key_padding_mask
        go to the self-attention, memory_mask and memory_key_padding_mask to the cross-attention (float masks are
        added to the scores, bool masks mark what may not be attended); an *_is_causal=True without its mask
        attends only to earlier positions."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x, self.dropout3))


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer (in `layers`) applied in turn, then norm when given, as
    torch.nn.TransformerEncoder. enable_nested_tensor and mask_check are accepted and ignored."""
    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """src through every layer (each given mask, src_key_padding_mask and is_causal), then norm."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer (in `layers`) applied in turn, then norm when given, as
    torch.nn.TransformerDecoder."""
    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """tgt through every layer, each attending to memory with the given masks, then norm."""
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder model of torch.nn.Transformer: a TransformerEncoder of num_encoder_layers and a
    TransformerDecoder of num_decoder_layers (each ending in a LayerNorm), or custom_encoder / custom_decoder;
    the layers take d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
    norm_first and bias. Every parameter of more than one dim is initialised with xavier_uniform_, as PyTorch
    does. dtype is accepted and ignored (every float is f16)."""
    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        args = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                    layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias,
                    device=device)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **args), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **args), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """The decoder's output for tgt ([T, N, E], or [N, T, E] with batch_first) attending to the encoding of
        src ([S, N, E]); the masks go to the encoder (src_*), the decoder's self-attention (tgt_*) and its
        cross-attention (memory_*), as in PyTorch. RuntimeError when src and tgt differ in batch size or their
        last dim is not d_model."""
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)


__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]
