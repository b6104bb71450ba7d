"""torch.stft and torch.istft (and the Tensor methods of both), composed of tl.fft's transforms and of views and
folds, so they run on every device, take real and complex signals, and have gradients in the signal and the window.

stft: the signal padded (center, pad_mode), its frames one strided view (Tensor.unfold), windowed, one FFT over the
last dimension of all frames (rfft for the onesided half). istft: one inverse FFT of all frames, windowed, summed back
at their offsets (nn.functional.fold, col2im) and divided by the squared window's own overlap-add, then trimmed as
PyTorch trims. Checks, defaults and messages are PyTorch's (SpectralOps.cpp)."""
import numbers
import warnings

from .complex_tensors import ComplexTensor, view_as_complex, view_as_real
from .creation import ones
from .fft import fft, ifft, irfft, rfft
from .ops.conv import fold
from .ops.shape import pad
from .tensor import Tensor, tensor_method

__all__ = ["stft", "istft"]


def _fail(op, message):
    return RuntimeError(f"{op}: {message}")


_INT64_MAX = 2**63 - 1
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _int(value, op, name):
    """An int argument, as PyTorch's parser takes it (a bool is no int; beyond int64 is an OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise OverflowError(f"{op}(): argument '{name}' {value} does not fit in a 64-bit integer")
    return int(value)


def _flags(op, **flags):
    for name, value in flags.items():
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__}")


def _check_window_kind(op, window):
    if window is not None and not isinstance(window, (Tensor, ComplexTensor)):
        raise TypeError(f"{op}(): argument 'window' must be Tensor, not {type(window).__name__}")


def _lengths(op, n_fft, hop_length, win_length):
    """(n_fft, hop_length, win_length) with PyTorch's defaults: a quarter of n_fft, and n_fft."""
    n_fft = _int(n_fft, op, "n_fft")
    hop = n_fft >> 2 if hop_length is None else _int(hop_length, op, "hop_length")
    return n_fft, hop, n_fft if win_length is None else _int(win_length, op, "win_length")


def _window(op, window, n_fft, win_length, device, missing_warning):
    """The window (a real or complex tensor of win_length, ones where none is given, with PyTorch's warning) padded
    with zeros on both sides to n_fft, as PyTorch centres it."""
    if window is None:
        warnings.warn(missing_warning, UserWarning, stacklevel=3)
        window = ones(win_length, device=device)
    left = (n_fft - win_length) // 2
    if isinstance(window, ComplexTensor):
        return view_as_complex(pad(view_as_real(window), (0, 0, left, n_fft - win_length - left)))
    return pad(window, (left, n_fft - win_length - left))


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",  # noqa: A002
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform of a signal [L] or batch [B, L] (real or complex), as torch.stft: frames of
    n_fft every hop_length (default n_fft // 4) samples, each times the window (win_length long, default n_fft,
    centred in n_fft; None is a rectangular window, with PyTorch's warning), transformed; the result is complex
    [B?, n_fft // 2 + 1 (onesided, the default for real signal and window) or n_fft, frames]. center pads n_fft // 2
    samples on each side by pad_mode first; normalized scales by n_fft^-0.5; align_to_window (center=False only)
    starts each frame where its window starts. return_complex must be given for a real signal, as PyTorch requires;
    False gives the real form [..., 2], deprecated (PyTorch's warning)."""
    op = "stft"
    if not isinstance(input, (Tensor, ComplexTensor)):
        raise TypeError(f"stft(): argument 'input' must be Tensor, not {type(input).__name__}")
    _check_window_kind(op, window)
    _flags(op, center=center, normalized=normalized, onesided=onesided, return_complex=return_complex)
    is_complex = isinstance(input, ComplexTensor) or isinstance(window, ComplexTensor)
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if return_complex is None:
        if not is_complex:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                               "require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
                      "still call torch.view_as_real on the complex output to recover the old return format.",
                      UserWarning, stacklevel=2)
    if isinstance(input, Tensor) and not input.is_floating_point():
        raise _fail(op, "expected a tensor of floating point or complex values")
    if input.ndim not in (1, 2):
        raise _fail(op, "expected a 1D or 2D tensor")
    n_fft, hop, win_length = _lengths(op, n_fft, hop_length, win_length)
    if input.numel() == 0:  # (PyTorch fails on it too, in its padding or in its FFT library)
        raise _fail(op, f"expected a signal with nonzero batch and length, but got shape {list(input.shape)}")
    half, length = n_fft // 2, input.shape[-1]
    if center:
        if pad_mode not in _PAD_MODES:
            raise ValueError(f"stft(): pad_mode must be one of {', '.join(_PAD_MODES)}, not {pad_mode!r}")
        if n_fft > 0 and (half >= length if pad_mode == "reflect" else half > length and pad_mode == "circular"):
            raise _fail(op, f"{pad_mode} padding of n_fft // 2 = {half} samples on each side should be less than "
                            f"the signal's length, but got a signal of {length}")
        length += 2 * half
    if not 0 < n_fft <= length:  # checked before padding: a negative n_fft would pad negatively
        raise _fail(op, f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    # the signal as a real [B, C, L]: C = 1 for a real signal, 2 (real and imaginary parts) for a complex one
    batched = input.ndim == 2
    signal = (view_as_real(input).transpose(-1, -2) if isinstance(input, ComplexTensor) else input.unsqueeze(-2))
    signal = signal if batched else signal.unsqueeze(0)
    b, c = signal.shape[:2]
    if center:
        signal = pad(signal.reshape(1, b * c, -1), (half, half), pad_mode).reshape(b, c, -1)
    if hop <= 0:
        raise _fail(op, f"expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win_length <= n_fft:
        raise _fail(op, f"expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and getattr(window, "shape", None) != (win_length,):
        shape = list(window.shape) if isinstance(window, (Tensor, ComplexTensor)) else type(window).__name__
        raise _fail(op, f"expected a 1D window tensor of size equal to win_length={win_length}, but got window with "
                        f"size {shape}")
    if onesided is None:
        onesided = not is_complex
    elif onesided and is_complex:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    window = _window(op, window, n_fft, win_length, input.device,
                     "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
                     "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to "
                     "reduce spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
                     "`window=torch.ones(n_fft, device=<device>)`.")
    if align_to_window:  # each frame starts where its window does: the signal's first sample under the window's first
        left = (n_fft - win_length) // 2
        signal = pad(signal, (left, n_fft - win_length - left))
    frames = signal.unfold(-1, n_fft, hop)  # [B, C, frames, n_fft], a view
    frames = view_as_complex(frames.permute(0, 2, 3, 1)) if c == 2 else frames[:, 0]
    frames = window * frames if isinstance(window, ComplexTensor) else frames * window
    norm = "ortho" if normalized else "backward"
    spectrum = (rfft(frames, dim=-1, norm=norm) if onesided else fft(frames, dim=-1, norm=norm)).transpose(-1, -2)
    spectrum = spectrum if batched else spectrum.squeeze(0)
    return spectrum if return_complex else view_as_real(spectrum)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,  # noqa: A002
          onesided=None, length=None, return_complex=False):
    """The inverse of stft, as torch.istft: the signal [B?, L] whose stft (with the same n_fft, hop_length,
    win_length, window, center and normalized) is the complex input [B?, freq, frames], by the least-squares
    overlap-add of the inverse transforms of the frames (the squared window's overlap-add must be nonzero wherever
    the signal is kept: PyTorch's NOLA condition). onesided (default: freq != n_fft) reads the half spectrum; a
    full one is read as Hermitian unless return_complex=True, which gives a complex signal. length trims the signal,
    or pads it with zeros (with PyTorch's warning)."""
    op = "istft"
    if not isinstance(input, ComplexTensor):
        if isinstance(input, Tensor):
            raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                               "return_complex=True.")
        raise TypeError(f"istft(): argument 'input' must be Tensor, not {type(input).__name__}")
    _check_window_kind(op, window)
    _flags(op, center=center, normalized=normalized, onesided=onesided, return_complex=return_complex)
    n_fft, hop, win_length = _lengths(op, n_fft, hop_length, win_length)
    if length is not None and _int(length, op, "length") < 0:
        raise _fail(op, f"expected length >= 0, but got length={length}")
    if input.numel() == 0:
        raise _fail(op, "input tensor cannot be empty.")
    if input.ndim not in (2, 3):
        raise _fail(op, f"expected a tensor with 3 or 4 dimensions, but got {input.ndim + 1}")
    fft_size, n_frames = input.shape[-2:]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided and fft_size != n_fft // 2 + 1:
        raise _fail(op, "expected the frequency dimension (3rd to the last) of the input tensor to match "
                        f"n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    if not onesided and fft_size != n_fft:
        raise _fail(op, f"expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
                        f"onesided=False, but got {fft_size}")
    if not 0 < hop <= win_length:
        raise _fail(op, "expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise _fail(op, "expected 0 < win_length <= n_fft")
    if isinstance(window, ComplexTensor):
        raise TypeError("istft: a complex window is not supported (real windows only)")
    if window is not None and getattr(window, "shape", None) != (win_length,):
        raise _fail(op, "Invalid window shape. window has to be 1D and length of `win_length`")
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    window = _window(op, window, n_fft, win_length, input.device,
                     "A window was not provided. A rectangular window will be applied.Please provide the same window "
                     "used by stft to make the inversion lossless.To suppress this warning and use a rectangular "
                     "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
    batched = input.ndim == 3
    frames = (input if batched else input.unsqueeze(0)).transpose(-1, -2)  # [B, frames, freq]
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = ifft(frames, dim=-1, norm=norm)
    else:  # a full spectrum is read as Hermitian: its first half alone, as PyTorch reads it
        frames = irfft(frames[..., :n_fft // 2 + 1] if not onesided else frames, n=n_fft, dim=-1, norm=norm)
    frames = frames * window  # [B, frames, n_fft]
    expected = n_fft + hop * (n_frames - 1)
    signal = _overlap_add(frames, expected, n_fft, hop)
    envelope = _overlap_add((window * window).expand(1, n_frames, n_fft), expected, n_fft, hop)[0]
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (expected - n_fft // 2 if center else expected)
    signal, envelope = signal[:, start:end], envelope[start:end]
    # (read on the host, as PyTorch reads it: PyTorch's 1e-11 is 0 in f16, whose smallest subnormal is 6e-8)
    smallest = float(envelope.abs().min()) if envelope.numel() else 1.0
    if smallest < 1e-11:
        raise _fail(op, f"window overlap add min: {smallest} (the squared window's overlap-add must be nonzero "
                        "wherever the signal is kept)")
    signal = signal / envelope
    if end > expected:
        warnings.warn("The length of signal is shorter than the length parameter. Result is being padded with zeros "
                      "in the tail. Please check your center and hop_length settings.", UserWarning, stacklevel=2)
        signal = _padded_end(signal, end - expected)
    return signal if batched else signal.squeeze(0)


def _overlap_add(frames, length, n_fft, hop):
    """The frames [B, frames, n_fft] (real or complex) summed at offsets of hop into signals [B, length]: one fold
    (col2im) of a 1 x n_fft kernel, over the real and imaginary parts as two channels for complex frames."""
    if isinstance(frames, ComplexTensor):
        b, t = frames.shape[:2]
        parts = view_as_real(frames).permute(0, 3, 2, 1).reshape(b, 2 * n_fft, t)
        summed = fold(parts, (1, length), (1, n_fft), stride=(1, hop)).reshape(b, 2, length)
        return view_as_complex(summed.transpose(1, 2))
    return fold(frames.transpose(1, 2), (1, length), (1, n_fft), stride=(1, hop)).reshape(frames.shape[0], length)


def _padded_end(signal, count):
    """The signals [B, L] (real or complex) with `count` zeros after their ends."""
    if isinstance(signal, ComplexTensor):
        return view_as_complex(pad(view_as_real(signal), (0, 0, 0, count)))
    return pad(signal, (0, count))


# The Tensor methods (torch's Tensor.stft and Tensor.istft), and the same on complex tensors, whose class lists them.
tensor_method("stft")(stft)
tensor_method("istft")(istft)
ComplexTensor.stft, ComplexTensor.istft = stft, istft
