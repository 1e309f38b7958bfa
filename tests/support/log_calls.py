"""Log calls at INFO or above whose arguments carry a person's data unmasked.

A call `log.info/warning/error/exception/critical(...)` (or `log.log(LEVEL, ...)` at a
level other than DEBUG) on a logger named log, logger or logging is read from the
source: each argument after the format string, and each value of an f-string used as
the format, is searched for a name or attribute that holds personal data by the
project's own naming (`address`, `chat_id`, `text`, `name`, `display_name`, `phone`,
`village`, `note`, `to`, ...) or an error's text (`error`, `exc`: a channel's errors
quote numbers and chat ids). Inside `mask_phone(...)`, `mask_numbers(...)`, `type(...)`
or `len(...)` such a name is fine: it is masked, or only its kind or size is shown.

It reads names, not values: `log.info("sent %s", sid)` passes whatever `sid` holds. It
is a guard against the common slip (logging `message.address` or `person.name`), not a
proof; the journey test (tests/system/test_logs_private.py) checks what is written.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ("bot", "storage", "flows", "content")
LOGGERS = frozenset({"log", "logger", "_log", "_logger", "LOG", "logging"})
LEVELS = frozenset({"info", "warning", "warn", "error", "exception", "critical", "fatal"})
# What the project calls the things that identify a person or hold what they wrote.
PRIVATE = frozenset(
    {
        "address",
        "addresses",
        "chat_id",
        "user_id",
        "from_user",
        "phone",
        "number",
        "to",
        "from_",
        "wa_id",
        "name",
        "names",
        "display_name",
        "first_name",
        "profile",
        "village",
        "text",
        "body",
        "caption",
        "note",
        "comment",
        "value",
        "answer",
        "typed",
        "error",
        "exc",
        "err",
    }
)
SAFE = frozenset({"mask_phone", "mask_numbers", "type", "len"})


def private_names(node: ast.AST) -> Iterator[str]:
    """The private names `node` reads, outside the calls that make them safe."""
    if isinstance(node, ast.Call):
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called in SAFE:
            return
    if isinstance(node, ast.Name) and node.id in PRIVATE:
        yield node.id
        return
    if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
        yield ast.unparse(node)
        return
    for child in ast.iter_child_nodes(node):
        yield from private_names(child)


def _logger_of(func: ast.expr) -> bool:
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        return owner.id in LOGGERS
    return isinstance(owner, ast.Attribute) and owner.attr in LOGGERS


def _arguments(call: ast.Call) -> list[ast.expr] | None:
    """What a log call at INFO or above writes besides a constant format; None: no such call."""
    assert isinstance(call.func, ast.Attribute)
    method, args = call.func.attr, list(call.args)
    if method == "log":
        if not args or ast.unparse(args[0]) in ("logging.DEBUG", "DEBUG"):
            return None
        args = args[1:]
    elif method not in LEVELS:
        return None
    if not args:
        return []
    message, rest = args[0], args[1:]
    if isinstance(message, ast.Constant):
        return rest
    if isinstance(message, ast.JoinedStr):
        return [v.value for v in message.values if isinstance(v, ast.FormattedValue)] + rest
    return [message, *rest]


def unmasked(source: str, where: str) -> list[str]:
    """'path:line: log.info(...) writes address' for each such call in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _logger_of(node.func)):
            continue
        arguments = _arguments(node)
        for argument in arguments or []:
            for name in private_names(argument):
                found.append(
                    (
                        node.lineno,
                        f"{where}:{node.lineno}: {ast.unparse(node.func)}(...) writes {name}: "
                        "leave it out, or mask it (mask_phone, mask_numbers)",
                    )
                )
    return [line for _, line in sorted(found)]


def unmasked_in(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            where = str(path.relative_to(root))
            found += unmasked(path.read_text(encoding="utf-8"), where)
    return found
