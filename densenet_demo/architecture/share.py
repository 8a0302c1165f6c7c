"""How a config leaves the app: a shareable query string and the Python code that rebuilds it."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from .config import DenseNetConfig, parse_int_list

_TUPLE_FIELDS = ("input_shape", "block_layers")


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

    Raises `ValueError` naming the field for any value that cannot be parsed or is invalid.
    """
    defaults = DenseNetConfig()
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
                value = float(text)
            else:
                value = text
        except (ValueError, KeyError):
            raise ValueError(f"{field.name}={text!r} in the link could not be read") from None
        values[field.name] = value
    return DenseNetConfig(**values)


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
