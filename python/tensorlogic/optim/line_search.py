"""The strong-Wolfe line search of LBFGS(line_search_fn="strong_wolfe"): bracketing, then zoom by cubic
interpolation (Nocedal and Wright, Numerical Optimization, algorithms 3.5 and 3.6, with the safeguards of
minFunc's WolfeLineSearch that torch.optim.LBFGS follows: extrapolation limited to [t + 0.01 (t - t_prev),
10 t], a step moved 10% inside the bracket when it lands too near an end twice, and max_ls evaluations).
Everything is float64 scalars and float32 numpy vectors on the host."""
import math

import numpy as np


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to bounds
    (default: between x1 and x2); the bounds' midpoint when the cubic has no minimum, or when a loss or slope is
    not finite: an f16 loss overflows to inf a step that float32 would only find large (a PINN's squared residual
    past 65504), and the cubic through it is NaN, which then became every later step and the weights."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if not all(math.isfinite(v) for v in (f1, g1, f2, g2)) or x1 == x2:
        return (low + high) / 2.0
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        minimum = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        minimum = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(minimum, low), high)


def slope_secant(x1, g1, x2, g2, bounds=None):
    """Where the slope, interpolated linearly between (x1, g1) and (x2, g2), is zero (the minimiser of the quadratic
    with those slopes), clamped to bounds (default: between x1 and x2); without curvature (equal slopes) the upper
    bound when extrapolating and the midpoint otherwise."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if not all(math.isfinite(v) for v in (g1, g2)) or g1 == g2:
        return high if bounds is not None else (low + high) / 2.0
    return min(max(x2 - g2 * (x2 - x1) / (g2 - g1), low), high)


def _not_above(f1, f2):
    """Whether loss f1 is at most f2, a loss that is not finite (f16's overflow, or NaN) counting as the worst."""
    return math.isfinite(f1) and (f1 <= f2 or not math.isfinite(f2))


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25, resolution=0.0):
    """Finds a step t along d that satisfies the strong Wolfe conditions from loss f, gradient g and slope
    gtd = g.d at t = 0. evaluate(t) -> (loss, flat gradient) at the start point + t d.
    Returns (loss, gradient, t, evaluations).

    resolution > 0: the losses are known only to within it (f16 losses: their spacing at f). Where a trial's loss is
    within it of f, the sufficient-decrease test cannot be read from the losses, and Hager and Zhang's approximate
    Wolfe condition takes its place (CG_DESCENT, 2005): the slope there at most (1 - 2 c1) |gtd|, which is the
    sufficient decrease on a quadratic; and a trial within it of the previous one is not a rise while the slope
    still descends; and a step is interpolated from the slopes alone where the two losses are within it of each
    other. With 0 (the default) the search is PyTorch's."""
    d_norm = float(np.abs(d).max())

    def too_high(f_new, gtd_new, t):  # the sufficient-decrease condition fails (a loss that is not finite does)
        if not math.isfinite(f_new):
            return True
        if f_new <= f + c1 * t * gtd:
            return False
        return not (resolution > 0 and f_new <= f + resolution and gtd_new <= (2 * c1 - 1) * gtd)

    def rose(f_new, gtd_new, f_ref):  # f_new is above f_ref (within the resolution only where the slope ascends)
        return f_new > f_ref + resolution or (f_new >= f_ref and (resolution == 0 or gtd_new >= 0))

    def interpolate(x1, f1, g1, x2, f2, g2, bounds=None):  # losses within the resolution cannot shape a cubic
        if resolution > 0 and abs(f1 - f2) <= resolution:
            return slope_secant(x1, g1, x2, g2, bounds)
        return cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds)

    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    # Bracketing: grow t until the interval [t_prev, t] holds a point satisfying the conditions.
    while ls_iter < max_ls:
        # (a loss that is not finite, f16's overflow, is a step too long, as a loss too high is)
        if too_high(f_new, gtd_new, t) or (ls_iter > 1 and rose(f_new, gtd_new, f_prev)):
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        step = interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = step
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    else:  # no bracket within max_ls evaluations
        bracket, bracket_f, bracket_g, bracket_gtd = [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new]

    # Zoom: shrink the bracket (low: the end with the lower loss) by cubic steps until the conditions hold.
    insufficient_progress = False
    low, high = (0, 1) if len(bracket) == 1 or _not_above(bracket_f[0], bracket_f[-1]) else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        top, bottom = max(bracket), min(bracket)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:  # too near an end: accept once, then move inside
            if insufficient_progress or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if too_high(f_new, gtd_new, t) or rose(f_new, gtd_new, bracket_f[low]):
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if _not_above(bracket_f[0], bracket_f[1]) else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = \
                    bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals
