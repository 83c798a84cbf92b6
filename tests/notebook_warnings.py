"""IPython startup file for the notebooks' kernels under nbval (``make nbval`` and ``make gpu-dry-run`` install it
into their IPYTHONDIR): a DeprecationWarning or FutureWarning raised from genlearn's own code is an error there, as
it is in pytest (pyproject.toml's filterwarnings), so the chapters catch rot such as a removed Pillow constant too.
Warnings that genlearn raises for its readers (a moved import) point at the reader's cell, not at genlearn."""

import warnings

for category in (DeprecationWarning, FutureWarning):
    warnings.filterwarnings("error", category=category, module=r"genlearn(\.|$)")
