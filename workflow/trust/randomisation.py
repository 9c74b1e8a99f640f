"""Weights drawn again for the model-randomisation check (Adebayo et al., 2018).

:func:`redraw` re-initialises every parameter of a network: each module's own reset method
(``reset_parameters``, or ``_reset_parameters`` as ``nn.MultiheadAttention`` has it; batch
normalisation's running statistics with it), then every parameter no reset method drew again
(a bare ``nn.Parameter`` such as a position embedding or a class token) from a normal of
std 0.02 truncated at two std, as ViTs initialise them. :func:`blocks` gives the network's
top-level blocks in the order the forward pass runs them, for the cascading form: blocks
re-drawn one at a time from the output down to the input.
"""

from __future__ import annotations

import torch
from torch import nn

BARE_STD = 0.02  # std of the truncated normal a bare parameter is drawn from


def _reset(module: nn.Module) -> None:
    for name in ("reset_parameters", "_reset_parameters"):
        method = getattr(module, name, None)
        if callable(method):
            method()
            return


def redraw(module: nn.Module, seed: int, names: list[str] | None = None) -> None:
    """Draw the parameters of ``module`` again in place, seeded: those of the submodules
    named in ``names`` (each module's own, as ``named_modules`` names them), all when None."""
    targets = [m for name, m in module.named_modules() if names is None or name in names]
    before = {id(p): p.detach().clone() for m in targets for p in m.parameters(recurse=False)}
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(seed)
        for m in targets:
            _reset(m)
        for m in targets:
            for p in m.parameters(recurse=False):
                if torch.equal(p, before[id(p)]):  # no reset method drew it again: a bare parameter
                    nn.init.trunc_normal_(p, std=BARE_STD, a=-2 * BARE_STD, b=2 * BARE_STD)


def blocks(module: nn.Module, x: torch.Tensor) -> list[list[str]]:
    """The network's top-level blocks holding parameters (through wrappers of one such
    child), in the order a forward pass of ``x`` first runs them, each as the names of its
    submodules; the parameters their parent owns itself (a position embedding, a class
    token) go with the first, input-side block."""
    prefix, root = "", module
    children = [(n, c) for n, c in root.named_children() if any(True for _ in c.parameters())]
    while len(children) == 1 and not any(True for _ in root.parameters(recurse=False)):
        prefix, root = f"{prefix}{children[0][0]}.", children[0][1]
        children = [(n, c) for n, c in root.named_children() if any(True for _ in c.parameters())]
    order: dict[str, int] = {}

    def seen(name: str) -> None:
        order.setdefault(name, len(order))

    hooks = [sub.register_forward_pre_hook(lambda *_, n=name: seen(n)) for name, child in children for sub in child.modules()]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for hook in hooks:
            hook.remove()
    ran = sorted((n for n, _ in children), key=lambda n: order.get(n, len(children)))
    groups = [[f"{prefix}{n}{'.' + sub if sub else ''}" for sub, _ in dict(children)[n].named_modules()] for n in ran] or [[]]
    groups[0].append(prefix.rstrip("."))  # the parent's own parameters
    return groups
