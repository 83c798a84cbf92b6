"""genlearn: the tested code behind the genlearn book on generative image models.

Import what you need from the submodules, e.g. ``from genlearn.runtime import get_device``.
Importing genlearn has no side effects: no downloads, no prints, no registration.
"""

__version__ = "0.1.0"
