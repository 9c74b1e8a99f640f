"""Networks, built by name through the registry.

Every builder takes the same arguments as MONAI's networks (``spatial_dims``,
``in_channels``, ``out_channels``) plus its own keyword parameters from the config.
"""

from .registry import ModelSpec, create, get, load_plugins, register, registered

__all__ = ["ModelSpec", "create", "get", "load_plugins", "register", "registered"]
