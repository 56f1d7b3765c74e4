"""Typed configuration: YAML files loaded into pydantic models that fail with file, key and reason."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

PACKAGE_CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
USER_CONFIG_DIR = Path("configs")  # in the project folder (the working directory): overrides the packaged defaults

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for every config block: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and the expectation."""


def describe_validation_error(source: str, error: ValidationError) -> str:
    """Turn pydantic's error list into one line per key: `file: key.path: problem (got value)`."""
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "<root>"
        got = item.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  - {key}: {item['msg']}{shown}")
    return "\n".join(lines)


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping; a missing file, bad YAML or a non-mapping top level is a ConfigError."""
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def default_config_path(name: str) -> Path:
    """The project's `configs/<name>` when it exists, else the default shipped inside the package."""
    user = USER_CONFIG_DIR / name
    return user if user.exists() else PACKAGE_CONFIG_DIR / name


def load_config(model: type[ModelT], path: Path | None, default_name: str) -> ModelT:
    """Load `path` (or the project's / packaged `configs/<default_name>`) into `model`, or raise a ConfigError."""
    source = Path(path) if path is not None else default_config_path(default_name)
    data = read_yaml(source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(str(source), exc)) from None
