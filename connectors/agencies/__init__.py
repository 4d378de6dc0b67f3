"""Built-in connectors for the agencies a single window always needs. They register through
entry points exactly as third-party plugins do, and only ever use `connectors.sdk`."""
