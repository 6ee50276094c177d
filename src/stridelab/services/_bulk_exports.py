"""Bulk exports: the metadata an account export keeps beside its activity files.

**Strava** ("Download or delete your account" -> "Request your archive"): a zip with
``activities/<id>.fit.gz|.gpx.gz|.tcx.gz`` (some uncompressed) and ``activities.csv``, one row per
activity. Its header (the real one, as public parsers of the export read it: e.g. eikek/fit4s
``StravaExportExtract``, which takes name, gear and the file from it) starts::

    Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,
    Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,...

and repeats some later names (``Elapsed Time``, ``Distance``...) with SI values; the columns read here
(``Activity Name``, ``Activity Type``, ``Activity Gear``, ``Filename``) appear once. ``Filename`` is
relative to the folder of ``activities.csv`` (empty for manual entries, which have no file). The row's
name and gear become the activity's; its type becomes the sport when the file names none.

**Garmin Connect** (account data export): FIT files in nested zips
(``DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip``) beside JSON; it needs nothing
here: the import walks nested zips, ignores the JSON and skips the non-activity FIT files.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Final

from stridelab.model import Activity

__all__ = [
    "STRAVA_CSV_NAME",
    "ExportMetadata",
    "apply_metadata",
    "is_strava_csv_member",
    "strava_metadata",
    "strava_sport",
]

#: the activity list of a Strava export (at the export's root)
STRAVA_CSV_NAME: Final = "activities.csv"
#: the columns that make a csv a Strava activity list
_REQUIRED: Final = ("Activity ID", "Activity Type", "Filename")

#: Strava activity type (as the export's csv writes it) -> (FIT sport, FIT sub_sport) profile names
_STRAVA_SPORTS: Final[dict[str, tuple[str, str | None]]] = {
    "run": ("running", None),
    "trail run": ("running", "trail"),
    "virtual run": ("running", "virtual_activity"),
    "walk": ("walking", None),
    "hike": ("hiking", None),
    "ride": ("cycling", None),
    "virtual ride": ("cycling", "virtual_activity"),
    "mountain bike ride": ("cycling", "mountain"),
    "gravel ride": ("cycling", "gravel_cycling"),
    "e bike ride": ("cycling", "e_bike_fitness"),
    "swim": ("swimming", None),
    "rowing": ("rowing", None),
    "elliptical": ("fitness_equipment", "elliptical"),
    "stair stepper": ("fitness_equipment", "stair_climbing"),
    "weight training": ("training", "strength_training"),
    "workout": ("training", None),
    "yoga": ("training", "yoga"),
    "nordic ski": ("cross_country_skiing", None),
    "alpine ski": ("alpine_skiing", None),
    "backcountry ski": ("alpine_skiing", "backcountry"),
    "snowshoe": ("snowshoeing", None),
    "ice skate": ("ice_skating", None),
    "kayaking": ("kayaking", None),
    "stand up paddling": ("stand_up_paddleboarding", None),
    "rock climbing": ("rock_climbing", None),
}


@dataclass(frozen=True, slots=True)
class ExportMetadata:
    """What an export's activity list says of one of its files (None: not given)."""

    name: str | None = None
    activity_type: str | None = None  # as the export writes it, e.g. "Trail Run"
    gear: str | None = None


def strava_sport(activity_type: str) -> tuple[str, str | None]:
    """The (sport, sub_sport) of a Strava activity type: FIT profile names for the known ones, else
    the type itself in snake case (``"Inline Skate"`` -> ``"inline_skate"``)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", activity_type)  # the API's "TrailRun" too
    key = " ".join(spaced.lower().replace("-", " ").split())
    known = _STRAVA_SPORTS.get(key)
    if known is not None:
        return known
    return key.replace(" ", "_"), None


def is_strava_csv_member(member: str) -> bool:
    """Is a zip member named like a Strava export's activity list (any folder)?"""
    return posixpath.basename(member).lower() == STRAVA_CSV_NAME


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def strava_metadata(zf: zipfile.ZipFile, member: str, *, limit: int) -> dict[str, ExportMetadata] | None:
    """The rows of a Strava ``activities.csv`` member by the zip member path of each activity's file
    (``Filename`` joined to the csv's folder); None when the member is not a Strava activity list
    (another ``activities.csv``: the caller lists it as ignored). At most ``limit`` bytes are read
    (``ValueError`` past that); ``OSError``/``zipfile.BadZipFile`` when the member cannot be read."""
    with zf.open(member) as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise ValueError(f"refused: more than {limit:,} bytes")
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace"), newline=""))
    if reader.fieldnames is None or not all(c in reader.fieldnames for c in _REQUIRED):
        return None
    folder = posixpath.dirname(member)
    out: dict[str, ExportMetadata] = {}
    for row in reader:
        filename = _text(row.get("Filename"))
        if filename is None:  # a manual entry: no file
            continue
        path = posixpath.normpath(posixpath.join(folder, filename.replace("\\", "/")))
        out[path] = ExportMetadata(
            name=_text(row.get("Activity Name")),
            activity_type=_text(row.get("Activity Type")),
            gear=_text(row.get("Activity Gear")),
        )
    return out


def apply_metadata(activity: Activity, meta: ExportMetadata | None) -> Activity:
    """``activity`` with the export's name and gear (the export's word wins: a user renames activities
    there), and its sport from the export's type when the file names none."""
    if meta is None:
        return activity
    sport, sub_sport = activity.sport, activity.sub_sport
    if sport is None and meta.activity_type is not None:
        sport, typed_sub_sport = strava_sport(meta.activity_type)
        sub_sport = sub_sport if sub_sport is not None else typed_sub_sport
    return dataclasses.replace(
        activity,
        name=meta.name if meta.name is not None else activity.name,
        gear=meta.gear if meta.gear is not None else activity.gear,
        sport=sport,
        sub_sport=sub_sport,
    )
