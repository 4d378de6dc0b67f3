"""Connector plugins that fetch what another agency already holds.

`connectors.sdk` is all a plugin author imports; `connectors.registry` finds plugins
through the ``panjereh.connectors`` entry points and calls their operations;
`connectors.call_context` builds the HTTP context of one call; `connectors.templates` turns the
operations into modeler templates; `connectors.testing` is the authors' pytest kit. See
README.md beside this file for the author guide.

This package's own import stays free of dependencies: pytest loads the test kit in every
run, through it.
"""
