"""KVCache: the keys and values of every layer, preallocated on the device as [2 (keys, values), batch,
kv_heads, max_len, head_dim] and written in place (one slice per layer and step, never a concatenation),
so that the keys of one step are a view with one batch stride and the attention kernel sees every
(batch, kv head) in one call."""
import numpy as np

from .. import _core, creation


class KVCache:
    """The keys and values of every layer for generation, preallocated on the device as [2, batch, kv_heads,
    max_len, head_dim] per layer and written in place; `length` counts the cached positions. left_padding (per row,
    the number of leading padded positions) masks those keys for every query."""
    def __init__(self, config, batch_size, max_len, device=None, left_padding=None):
        """left_padding: per row, how many leading positions are padding (masked as keys for every query);
        None when no row is padded."""
        shape = (2, batch_size, config.num_kv_heads, max_len, config.head_dim)
        self.layers = [creation.empty(*shape, device=device) for _ in range(config.num_layers)]
        self.device = self.layers[0].device
        self.batch_size, self.max_len, self.length = batch_size, max_len, 0
        self.left_padding = None
        self.mask = None  # [batch, kv_heads, max_len]: 0 for a key that may be seen, -inf for padding
        if left_padding is not None and any(left_padding):
            pads = np.asarray(left_padding, dtype=np.int64)
            if pads.shape != (batch_size,) or pads.min() < 0 or pads.max() >= max_len:
                raise ValueError(f"KVCache: left_padding must give 0 <= pad < {max_len} for each of {batch_size} "
                                 f"rows, got {list(left_padding)}")
            self.left_padding = pads
            keep = np.arange(max_len)[None, :] >= pads[:, None]
            # Stored per kv head (not broadcast) so that the mask's batch axes fold like the keys' do.
            mask = np.where(keep, np.float16(0), np.float16(-np.inf))
            self.mask = creation.tensor(np.ascontiguousarray(np.broadcast_to(mask[:, None, :], shape[1:4])), device=device)

    def update(self, layer, kv, start):
        """Writes the keys and values kv [B, L, 2 * kv_heads, head_dim] (a native array, keys first) of
        positions start.. into `layer`'s cache and returns the cached keys and values of positions
        0..start+L as native views [B, kv_heads, T, head_dim] (the decoder's layers run on native arrays)."""
        b, n, heads, d = kv.shape
        store = _core.slice(self.layers[layer]._a, 3, 0, start + n, 1)
        _core.copy_(_core.slice(store, 3, start, start + n, 1),
                    _core.permute(_core.view(kv, [b, n, 2, heads // 2, d]), [2, 0, 3, 1, 4]))
        return _core.select(store, 0, 0), _core.select(store, 0, 1)

    def prefill_mask(self, length):
        """The additive mask of a prefill of `length` tokens from an empty cache, [batch, 1, 1, L, L] (causal
        and padding), or None when is_causal alone says it."""
        if self.left_padding is None:
            return None
        causal = np.triu(np.full((length, length), -np.inf, dtype=np.float16), 1)
        pad = np.where(np.arange(length)[None, :] >= self.left_padding[:, None], np.float16(0), np.float16(-np.inf))
        mask = causal[None, :, :] + pad[:, None, :]
        return creation.tensor(mask[:, None, None], device=self.device)
