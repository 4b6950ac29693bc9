"""A policy engine: rules per API action over roles, scope and ownership.

Rules use oslo.policy's language, so operators can read and override them:
``role:admin or (role:reader and project_id:%(project_id)s)``, ``rule:name``,
``@`` (always), ``!`` (never), ``not``, ``and``, ``or`` and parentheses.
A check ``key:%(attr)s`` compares the caller's credential ``key`` with the
target's ``attr``; ``key:literal`` compares with a literal.
"""
import re

from flask import g

from undercloud.common.errors import Forbidden

# A parenthesis, or a run of anything else; %(name)s substitutions keep their parentheses.
_TOKEN = re.compile(r"\s*(\(|\)|(?:[^\s()%]|%\([^)]*\))+)")


class PolicyError(Exception):
    """A rule that cannot be parsed; raised when rules are loaded."""


def _tokens(text):
    position, tokens = 0, []
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise PolicyError(f"cannot read policy rule {text!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over: or_expr := and_expr ('or' and_expr)*, and so on."""

    def __init__(self, text):
        self.text, self.tokens, self.position = text, _tokens(text), 0

    def parse(self):
        if not self.tokens:
            return ("always",)
        tree = self._or()
        if self.position != len(self.tokens):
            raise PolicyError(f"unexpected {self.tokens[self.position]!r} in rule {self.text!r}")
        return tree

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self):
        self.position += 1
        return self.tokens[self.position - 1]

    def _or(self):
        terms = [self._and()]
        while self._peek() == "or":
            self._take()
            terms.append(self._and())
        return ("or", terms) if len(terms) > 1 else terms[0]

    def _and(self):
        terms = [self._not()]
        while self._peek() == "and":
            self._take()
            terms.append(self._not())
        return ("and", terms) if len(terms) > 1 else terms[0]

    def _not(self):
        if self._peek() == "not":
            self._take()
            return ("not", self._not())
        return self._atom()

    def _atom(self):
        token = self._take() if self._peek() is not None else None
        if token is None:
            raise PolicyError(f"rule {self.text!r} ends too early")
        if token == "(":
            tree = self._or()
            if self._peek() != ")":
                raise PolicyError(f"missing ')' in rule {self.text!r}")
            self._take()
            return tree
        if token == "@":
            return ("always",)
        if token == "!":
            return ("never",)
        kind, sep, value = token.partition(":")
        if not sep:
            raise PolicyError(f"check {token!r} in rule {self.text!r} needs the form kind:value")
        return ("check", kind, value)


def _truthy(text):
    return text.lower() in ("true", "1", "yes")


class Enforcer:
    """Holds one service's rules; answers whether a caller may do an action."""

    def __init__(self, defaults: dict[str, str], overrides: dict[str, str] | None = None):
        rules = {**defaults, **(overrides or {})}
        self.rules = {name: _Parser(text).parse() for name, text in rules.items()}

    def allowed(self, action: str, credentials: dict, target: dict | None = None) -> bool:
        if action not in self.rules:
            raise PolicyError(f"no policy rule for action {action!r}")
        return self._eval(self.rules[action], credentials, target or {}, depth=0)

    def _eval(self, tree, creds, target, depth):
        if depth > 20:
            raise PolicyError("policy rules refer to each other in a loop")
        kind = tree[0]
        if kind == "always":
            return True
        if kind == "never":
            return False
        if kind == "not":
            return not self._eval(tree[1], creds, target, depth)
        if kind == "and":
            return all(self._eval(t, creds, target, depth) for t in tree[1])
        if kind == "or":
            return any(self._eval(t, creds, target, depth) for t in tree[1])
        _, check, value = tree
        if check == "rule":
            if value not in self.rules:
                raise PolicyError(f"policy refers to unknown rule {value!r}")
            return self._eval(self.rules[value], creds, target, depth + 1)
        if check == "role":
            return value.lower() in (r.lower() for r in creds.get("roles", []))
        if "%(" in value:
            try:
                expected = value % target
            except KeyError:
                return False
        else:
            expected = value
        actual = creds.get(check)
        if isinstance(actual, bool):
            return actual == _truthy(expected)
        return actual is not None and str(actual) == str(expected)

    def enforce(self, action: str, target: dict | None = None, context=None):
        """Raise 403 naming the action unless the caller may do it."""
        context = context or g.context
        if not self.allowed(action, context.credentials(), target):
            raise Forbidden(f"You are not authorized to perform the requested action: {action}.")
