# The sample's own tests need the sample installed; tests/connectors/test_sample_package.py
# installs it and then runs them in a pytest of their own, the way its author would.
collect_ignore = ["tests"]
