"""How a config leaves the app and comes back: a shareable query string, JSON, the Python code
that rebuilds it, and the name its files get."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .config import DenseNetConfig, parse_int_list, parse_number, short_repr
from .presets import PRESETS

_TUPLE_FIELDS = ("input_shape", "block_layers")
_FIELDS = tuple(field.name for field in dataclasses.fields(DenseNetConfig))


def to_query(config: DenseNetConfig, preset: str | None = None) -> str:
    """A readable query string, e.g. `preset=densenet121&growth_rate=32&block_layers=6,12,24,16`."""
    values = {"preset": preset} if preset else {}
    for name, value in config.to_dict().items():
        if value is None:
            continue
        values[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    return urlencode(values, safe=",")


def from_query(params: dict[str, str]) -> DenseNetConfig:
    """Parse `to_query`'s fields (strings) back into a validated config; unknown keys ignored.
    Fields the query leaves out are those of the preset it names (a link written by hand,
    `preset=fashion&growth_rate=24`), else of `DenseNetConfig()`.

    Raises `ValueError` naming the field for any value that cannot be parsed or is invalid.
    """
    defaults = PRESETS.get(params.get("preset"), DenseNetConfig())
    values = {}
    for field in dataclasses.fields(DenseNetConfig):
        if field.name not in params:
            continue
        text = str(params[field.name]).strip()
        try:
            if field.name in _TUPLE_FIELDS:
                value = parse_int_list(field.name, text)
            elif field.name == "bottleneck":
                value = {"true": True, "false": False}[text.lower()]
            elif field.name == "transition_features":
                value = None if text.lower() in ("", "none") else int(text)
            elif isinstance(getattr(defaults, field.name), (int, float)):
                value = parse_number(text)
            else:
                value = text
        except (ValueError, KeyError):
            raise ValueError(
                f"{field.name}={short_repr(text)} in the link could not be read"
            ) from None
        values[field.name] = value
    return dataclasses.replace(defaults, **values)


def config_json(config: DenseNetConfig) -> str:
    """The config as JSON (`DenseNetConfig.to_dict`); `DenseNetConfig.from_dict` reads it back."""
    return json.dumps(config.to_dict(), indent=2) + "\n"


def read_config(value: Any, name: str = "config") -> DenseNetConfig:
    """A config from a `to_dict` mapping, its JSON text, a share link or its query string.

    A link naming a preset and no field is that preset, as the page opens it. Raises a
    one-line `ValueError` that starts with `name` and says what was wrong.
    """
    allowed = "a JSON object of DenseNetConfig fields or a share link's query string"
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValueError(f"{name} is not valid JSON ({error}); allowed {allowed}") from None
    try:
        if isinstance(value, dict):
            return DenseNetConfig.from_dict(value)
        if isinstance(value, str):
            query = urlsplit(value.strip()).query or value.strip().lstrip("?")
            params = dict(parse_qsl(query))
            if any(field in params for field in _FIELDS):
                return from_query(params)
            if params.get("preset") in PRESETS:
                return PRESETS[params["preset"]]
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}: {error}") from None
    raise ValueError(f"{name}={short_repr(value)} is not a configuration: allowed {allowed}")


def file_stem(config: DenseNetConfig) -> str:
    """The name a config's files get: its preset's name, else 'densenet-custom'."""
    return next((name for name, preset in PRESETS.items() if preset == config), "densenet-custom")


def config_code(config: DenseNetConfig) -> str:
    """Python that rebuilds `config` with this package, ready to copy."""
    arguments = "".join(
        f"    {f.name}={getattr(config, f.name)!r},\n" for f in dataclasses.fields(config)
    )
    return (
        "from densenet_demo import DenseNetConfig, build_model\n\n"
        f"config = DenseNetConfig(\n{arguments})\n"
        "model = build_model(config)  # a keras.Model\n"
        "model.summary()\n"
    )
