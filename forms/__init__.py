"""Form models for user tasks: extracted from BPMN, validated on the server."""
