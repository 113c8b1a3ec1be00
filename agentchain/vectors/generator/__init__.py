"""The conformance-vector generator: a checkout-only part of the package.

It is left out of the wheel (pyproject.toml, vectors/README.md says why): a production
install carries the vectors, the runner and the harness, not the code that wrote them.
``agentchain vectors generate`` runs it from a checkout or an editable install.
"""
