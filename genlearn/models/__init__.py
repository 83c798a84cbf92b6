"""Models: plain ``nn.Module`` classes with explicit configs (each has a ``tiny()`` preset for tests)."""
