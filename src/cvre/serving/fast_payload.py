"""A fast first pass over request bodies: msgspec twins of the request models, derived from them, never written twice.

pydantic validates a 1,000-deal /score_deals body in ~30 ms, mostly building ~10,000 model objects; msgspec decodes
the same body into structs in ~6 ms (docs/performance.md). The twins are built from the pydantic models' fields
(types, defaults, length and range limits) and are at least as strict as those models: naive times only, each time
within the models' range, each listed constraint. A body the fast pass refuses is not an error yet: the caller
validates it again with pydantic, which accepts what it accepts (offsets, dates without time, numbers as strings)
and words every refusal as the API always did. So the fast pass changes the cost of a request, never its answer.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
import msgspec
from pydantic import AfterValidator, BaseModel, WithJsonSchema
from pydantic.fields import FieldInfo

SAFETY = dt.timedelta(days=2)  # a time this close to a range limit goes to pydantic, which judges the limit itself
_LIMITS = {at.MinLen: "min_length", at.MaxLen: "max_length", at.Ge: "ge", at.Le: "le", at.Gt: "gt", at.Lt: "lt"}
# Model validators that only convert times with offsets to naive UTC: a no-op for the twins, which take naive times
NAIVE_TIME_VALIDATORS = frozenset({"_times_in_utc"})


class Unsupported(TypeError):
    """A model field type the fast pass does not mirror: add it here (tests/serving/test_fast_payload.py finds it)."""


def _meta(metadata: list, is_time: bool) -> tuple[dict[str, Any], tuple]:
    """msgspec.Meta keywords of a field's limits, and a time field's (low, high) range, narrowed by SAFETY."""
    meta, low, high = {}, None, None
    for item in metadata:
        if isinstance(item, FieldInfo):
            more, (low2, high2) = _meta(item.metadata, is_time)
            meta |= more
            low, high = low2 or low, high2 or high
            continue
        kind = _LIMITS.get(type(item))
        if kind is None:
            if not isinstance(item, AfterValidator | WithJsonSchema):  # validators: run on the struct (`_valid`)
                raise Unsupported(f"field metadata {item!r}")
            continue
        value = getattr(item, kind)
        if is_time:
            low, high = (value + SAFETY, high) if kind in ("ge", "gt") else (low, value - SAFETY)
        else:
            meta[kind] = value
    return meta, (low, high)


def _twin_type(annotation, metadata: list, times: list[tuple], name: str):
    """The msgspec type of a pydantic annotation (recording time fields' ranges in `times`)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _twin_type(args[0], [*metadata, *args[1:]], times, name)
    if origin in (Union, UnionType):
        members = [a for a in args if a is not NoneType]
        if len(members) != 1:
            raise Unsupported(f"{name}: union {annotation}")
        return _twin_type(members[0], metadata, times, name) | None
    if annotation is dt.datetime:
        meta, (low, high) = _meta(metadata, is_time=True)
        times.append((name, low, high))
        return Annotated[dt.datetime, msgspec.Meta(tz=False)]
    if origin is list:
        item = _twin_type(args[0], [], times, name)
        meta, _ = _meta(metadata, is_time=False)
        return Annotated[list[item], msgspec.Meta(**meta)] if meta else list[item]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return twin(annotation)
    if origin is Literal or annotation in (str, float, bool, int):
        meta, _ = _meta(metadata, is_time=False)
        return Annotated[annotation, msgspec.Meta(**meta)] if meta else annotation
    raise Unsupported(f"{name}: {annotation}")


@cache
def twin(model: type[BaseModel]) -> type[msgspec.Struct]:
    """The msgspec struct of a request model: same field names, defaults and limits; unknown fields refused as the
    model does (`extra="forbid"`); naive times only. `time_fields(struct)` gives the range of its times."""
    if model.model_config.get("extra") != "forbid":
        raise Unsupported(f"{model.__name__}: the fast pass mirrors models that forbid unknown fields")
    decorators = model.__pydantic_decorators__
    if set(decorators.model_validators) - NAIVE_TIME_VALIDATORS or decorators.field_validators or decorators.validators:
        raise Unsupported(f"{model.__name__}: validators the fast pass does not mirror")
    fields, times, after = [], [], []
    for name, info in model.model_fields.items():
        kind = _twin_type(info.annotation, list(info.metadata), times, name)
        after += [(name, m.func) for m in _validators(info.annotation, info.metadata)]
        if info.default_factory is not None:
            fields.append((name, kind, msgspec.field(default_factory=info.default_factory)))
        elif info.is_required():
            fields.append((name, kind))
        else:
            fields.append((name, kind, info.default))
    struct = msgspec.defstruct(model.__name__, fields, kw_only=True, forbid_unknown_fields=True,
                               gc=False)  # a request holds no cycles: ~10k fewer objects for the collector
    _TIMES[struct], _AFTER[struct] = tuple(times), tuple(after)
    _NESTED[struct] = tuple((n, t) for n, t in struct.__annotations__.items() if _nests(t))
    return struct


_TIMES: dict[type, tuple[tuple[str, dt.datetime | None, dt.datetime | None], ...]] = {}
_AFTER: dict[type, tuple[tuple[str, Any], ...]] = {}
_NESTED: dict[type, tuple[tuple[str, Any], ...]] = {}


def _validators(annotation, metadata) -> list[AfterValidator]:
    """A field's after-validators, on the field and inside its Annotated type (outermost last, as pydantic runs)."""
    found, origin = [], get_origin(annotation)
    if origin is Annotated:
        found += _validators(get_args(annotation)[0], get_args(annotation)[1:])
    elif origin in (Union, UnionType) and any(_validators(a, ()) for a in get_args(annotation)):
        raise Unsupported(f"a validator inside {annotation}")  # pydantic skips it for None: not mirrored
    for item in metadata:
        if isinstance(item, AfterValidator):
            found.append(item)
    return found


def _nests(kind) -> bool:
    """Whether a twin field's type holds structs (one, optional, or a list of them)."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return True
    return any(_nests(a) for a in get_args(kind) if not isinstance(a, msgspec.Meta))


def _valid(item: msgspec.Struct) -> bool:
    """Whether every time of `item` and of the structs it holds lies inside its field's (narrowed) range; then the
    models' after-validators, innermost first (as pydantic runs them), each value replaced by what they return."""
    kind = type(item)
    for name, low, high in _TIMES[kind]:
        value = getattr(item, name)
        if value is not None and ((low is not None and value < low) or (high is not None and value >= high)):
            return False
    for name, _ in _NESTED[kind]:
        value = getattr(item, name)
        if value is None:
            continue
        for child in value if isinstance(value, list) else (value,):
            if not _valid(child):
                return False
    for name, check in _AFTER[kind]:
        setattr(item, name, check(getattr(item, name)))  # a ValueError: the caller hands the body to pydantic
    return True


@cache
def decoder(model: type[BaseModel]) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(twin(model))


def fast_decode(body: bytes, model: type[BaseModel]) -> msgspec.Struct | None:
    """The body as `model`'s twin, or None where the fast pass cannot vouch for it (the caller then validates with
    pydantic): malformed or lax JSON, times with offsets or near a range limit, any limit broken."""
    try:
        item = decoder(model).decode(body)
        return item if _valid(item) else None
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError):
        return None
