"""The base of every config section."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from ragctl.secrets import has_password

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        # most often the key pasted where its variable's name belongs: it would be logged as a parameter
        raise ValueError(
            "names the environment variable that holds the key (letters, digits and _, e.g. OPENAI_API_KEY), "
            "not the key itself, which never goes in the config"
        )
    return value


def _no_password(value: str) -> str:
    if has_password(value):  # an endpoint's address is logged with the chain and read by anyone who loads it
        raise ValueError("holds a password: give the address without it and the key in the variable api_key_env names")
    return value


EnvVarName = Annotated[str, AfterValidator(_env_name)]
Endpoint = Annotated[str, AfterValidator(_no_password)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
