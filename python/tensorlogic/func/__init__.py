"""tl.func (torch.func): function transforms over the tape. grad, grad_and_value, vjp, jvp, jacrev, jacfwd and hessian
(forward mode through the double-vjp trick), vmap (a loop over the batch), functional_call and stack_module_state."""
from .batching import vmap
from .stateless import functional_call, stack_module_state
from .transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call",
           "stack_module_state"]
