"""The REPL's one detector of secrets, for what it writes to files (``:export``, the history):
the values of the credentials in the environment and of every live client's, in every spelling
:mod:`flowql.redact` knows (raw, percent-encoded, the Basic token of Conviva's pair)."""

from __future__ import annotations

import base64
import os

from flowql.apis import APIS
from flowql.redact import KNOWN_MIN, Redactor, known_values

__all__ = ["SECRET_ENV", "secret_in"]

SECRET_ENV = tuple(dict.fromkeys(name for spec in APIS.values() for name in spec.secrets))
"""The environment variables whose values are secrets."""


def secret_in(text: str) -> str | None:
    """What secret ``text`` holds (an environment variable's name, or "a client's credential"),
    in any spelling; None when it holds none."""
    for name in SECRET_ENV:
        value = os.environ.get(name, "")
        if len(value) < KNOWN_MIN:
            continue
        forms = [value]
        for spec in APIS.values():
            if name in spec.secrets and len(spec.credentials) == 2:
                # A pair sent as HTTP Basic (Conviva's id and secret): its token too.
                pair = ":".join(os.environ.get(n, "") for n in spec.credentials)
                forms.append(base64.b64encode(pair.encode()).decode("ascii"))
        if Redactor(forms).found(text):
            return name
    if Redactor(known_values()).found(text):
        return "a client's credential"
    return None
