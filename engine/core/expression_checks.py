"""Static checks of expression and script text before deployment."""

from __future__ import annotations

from typing import Literal

from engine.core.sandbox import SandboxViolation, check_source


def expression_problem(text: str, mode: Literal["eval", "exec"]) -> str | None:
    """Why `text` cannot run in the sandbox, or None when it can."""
    stripped = text.strip()
    if stripped.startswith("${") or stripped.startswith("#{"):
        return "JUEL expressions (${...}) are not supported yet; write the expression in Python"
    if mode == "eval" and stripped.startswith("="):
        return "FEEL expressions (=...) are not supported yet; write the expression in Python"
    try:
        check_source(text, mode)
    except SyntaxError as err:
        return f"not valid Python: {err.msg} (line {err.lineno})"
    except SandboxViolation as err:
        return str(err)
    return None
