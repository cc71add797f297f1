"""gitorch's six built-in audit dimensions, registered like any third-party plugin's."""

from __future__ import annotations

from gitorch import Dimension, hookimpl


class Security(Dimension):
    name = "security"
    title = "Security"
    description = "OWASP Top 10, injection, secrets, unsafe deserialisation, weak crypto."


class Backend(Dimension):
    name = "backend"
    title = "Backend"
    description = "Code quality and correctness of the server-side code: bugs, error handling, performance."


class Tests(Dimension):
    name = "tests"
    title = "Tests"
    description = "Failing tests, coverage, untested modules, test quality and edge cases."


class Architecture(Dimension):
    name = "architecture"
    title = "Architecture"
    description = "Complexity, maintainability, design patterns, coupling and scalability."


class Compliance(Dimension):
    name = "compliance"
    title = "Compliance"
    description = "Regulations, licences, framework deprecations and domain rules (needs an AI agent)."


class Frontend(Dimension):
    name = "frontend"
    title = "Frontend"
    description = "JavaScript, templates and views, accessibility and UX (needs an AI agent)."


@hookimpl
def gitorch_dimensions():
    return [Security, Backend, Tests, Architecture, Compliance, Frontend]
