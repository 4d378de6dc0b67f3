"""Connector plugins that fetch what another agency already holds.

The SDK (`connectors.sdk`), the built-in connectors and the simulated agencies arrive
with the connector work; until then service tasks park and are completed through the
service layer (`POST /api/v1/service-calls/{id}/complete`).
"""
