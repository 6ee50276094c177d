"""FIT decoding through the official Garmin FIT SDK (``garmin-fit-sdk``), as a :class:`FitFile`.

This is the reference decoder (the oracle of the fast engine). Its output has the same shape as the
engine's: message names without the SDK's ``_mesgs`` suffix, unknown messages ``mesg_<num>``, unknown
fields ``field_<num>``, developer values under :func:`developer_column_name` columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd

from stridelab.io.fit._types import DeveloperFieldInfo, FitDecodeError, FitFile, FitProblem

__all__ = ["decode_with_sdk", "developer_column_name", "slug"]

#: Connect IQ application ids (hex, no dashes) of apps whose data we know.
KNOWN_APPS: dict[str, str] = {
    "18fb2cf01a4b430dad66988c847421f4": "stryd",  # Stryd Zones (seen in Fr955v19.28andStryd.fit)
    # RunScribe Plus (FR920xt-with-runscribe-plus.fit: RS_* fields; FR735XT-with-performance-condition.fit)
    "c1f5c80a5a054e8a97b3fda34e957035": "runscribe",
    "502092b3b0dd45ad89b3472ab2060ab6": "runscribe",  # RunScribe v1.38 (Fenix-3-with-runscribe-v1-38.fit)
}
_STRYD_NAMES = {"form power", "leg spring stiffness", "air power", "ground time", "power"}


def slug(text: str) -> str:
    """Lowercase identifier: ``"Leg Spring Stiffness"`` -> ``"leg_spring_stiffness"``."""
    out = []
    prev_us = False
    for ch in text.strip().lower():
        if ch.isalnum() and ch.isascii():
            out.append(ch)
            prev_us = False
        elif ch == "%":
            out.append("pct")
            prev_us = False
        elif not prev_us:
            out.append("_")
            prev_us = True
    return "".join(out).strip("_") or "x"


def app_label(application_id: str | None, developer_data_index: int, field_names: Sequence[str]) -> str:
    """A short, stable label for a developer app: known id, else recognised field names, else index."""
    if application_id and application_id in KNOWN_APPS:
        return KNOWN_APPS[application_id]
    names = {n.strip().lower() for n in field_names if n}
    if len(names & _STRYD_NAMES) >= 2:
        return "stryd"
    if any("runscribe" in n or n.startswith(("rs ", "rs_")) for n in names):
        return "runscribe"
    return f"app{developer_data_index}"


def developer_column_name(
    app: str, field_name: str | None, field_definition_number: int, taken: set[str]
) -> str:
    """Collision-free column for a developer field: ``dev_<app>_<field>``, suffixed when taken."""
    base = f"dev_{slug(app)}_{slug(field_name) if field_name else f'field{field_definition_number}'}"
    name = base
    n = 2
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    taken.add(name)
    return name


def describe_developer_fields(
    developer_data_ids: Sequence[Mapping[str, Any]], field_descriptions: Sequence[Mapping[str, Any]]
) -> list[DeveloperFieldInfo]:
    """Build the per-field descriptions (shared by both decoders so column names agree)."""
    apps: dict[int, tuple[str | None, int | None]] = {}
    for d in developer_data_ids:
        idx = d.get("developer_data_index")
        if idx is None:
            continue
        app_id = d.get("application_id")
        hex_id = bytes(int(b) & 0xFF for b in app_id).hex() if isinstance(app_id, list | tuple) else None
        apps[int(idx)] = (
            hex_id,
            d.get("manufacturer_id") if isinstance(d.get("manufacturer_id"), int) else None,
        )
    names_by_app: dict[int, list[str]] = {}
    for fd in field_descriptions:
        names_by_app.setdefault(int(fd.get("developer_data_index", 0) or 0), []).append(
            str(fd.get("field_name") or "")
        )
    taken: set[str] = set()
    seen: dict[tuple[int, int], DeveloperFieldInfo] = {}
    out: list[DeveloperFieldInfo] = []
    for fd in field_descriptions:
        idx = int(fd.get("developer_data_index", 0) or 0)
        num = int(fd.get("field_definition_number", 0) or 0)
        name = fd.get("field_name")
        key = (idx, num)
        if key in seen and seen[key].name == name:
            out.append(seen[key])  # redefinition in a chained sequence: same column
            continue
        hex_id, manufacturer = apps.get(idx, (None, None))
        label = app_label(hex_id, idx, names_by_app.get(idx, []))
        info = DeveloperFieldInfo(
            developer_data_index=idx,
            field_definition_number=num,
            name=str(name) if name is not None else None,
            units=str(fd["units"]) if fd.get("units") is not None else None,
            base_type=int(fd["fit_base_type_id"]) if fd.get("fit_base_type_id") is not None else None,
            application_id=hex_id,
            manufacturer_id=manufacturer,
            native_mesg_num=fd.get("native_mesg_num") if isinstance(fd.get("native_mesg_num"), int) else None,
            native_field_num=fd.get("native_field_num")
            if isinstance(fd.get("native_field_num"), int)
            else None,
            column=developer_column_name(label, str(name) if name else None, num, taken),
        )
        seen[key] = info
        out.append(info)
    return out


def _message_name(sdk_key: str) -> str:
    if sdk_key.endswith("_mesgs"):
        return sdk_key[: -len("_mesgs")]
    return f"mesg_{sdk_key}"


def _flatten(mesg: Mapping[Any, Any], dev_columns: Mapping[int, str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for k, v in mesg.items():
        if k == "developer_fields":
            for dk, dv in v.items():
                row[dev_columns.get(dk, f"dev_unknown_{dk}")] = dv
        elif isinstance(k, int):
            row[f"field_{k}"] = v
        else:
            row[k] = v
    return row


def decode_with_sdk(data: bytes, source: str | None = None) -> FitFile:
    """Decode ``data`` with ``garmin_fit_sdk.Decoder(...).read()`` (default options).

    Raises :class:`FitDecodeError` naming ``source`` when the SDK reports an error (the SDK stops at
    the first fault; it does not recover messages after it).
    """
    from garmin_fit_sdk import Decoder, Stream

    if len(data) == 0:
        raise FitDecodeError("empty file", offset=0, source=source)
    stream = Stream.from_byte_array(bytearray(data))
    decoder = Decoder(stream)
    if not decoder.is_fit():
        raise FitDecodeError("not a FIT file (no '.FIT' signature in the header)", offset=8, source=source)
    try:
        sdk_messages, errors = decoder.read()
    except Exception as exc:  # the SDK raises bare exceptions on some inputs
        raise FitDecodeError(f"FIT SDK failed: {exc}", source=source) from exc
    if errors:
        raise FitDecodeError(f"FIT SDK: {errors[0]}", source=source)

    # the SDK types its result as a TypedDict of the known message lists; every value (unknown
    # messages too) is a list of message dicts
    messages = cast("dict[str, list[dict[Any, Any]]]", sdk_messages)
    dev_infos = describe_developer_fields(
        messages.get("developer_data_id_mesgs", []), messages.get("field_description_mesgs", [])
    )
    # the SDK keys developer values by the "key" it gives each field_description message
    dev_columns = {
        int(fd.get("key", i)): info.column
        for i, (fd, info) in enumerate(
            zip(messages.get("field_description_mesgs", []), dev_infos, strict=True)
        )
    }
    frames: dict[str, pd.DataFrame] = {}
    for key, mesgs in messages.items():
        rows = [_flatten(m, dev_columns) for m in mesgs]
        frames[_message_name(key)] = pd.DataFrame.from_records(rows)
    problems: list[FitProblem] = []
    return FitFile(messages=frames, developer_fields=dev_infos, problems=problems)
