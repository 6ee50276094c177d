# ruff: noqa: E501  (the DTD lines are Apple's)
"""Builds Apple Health exports to the export's DTD (versions 11 and 14) for the tests, with known truth.

The DTD text follows the header Apple writes into every ``export.xml`` (trimmed to the elements used);
version 11 carries workout totals as attributes, version 12+ as ``WorkoutStatistics`` children.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DTD_14 = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                     CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType           CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse   CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics|WorkoutActivity)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutEvent (MetadataEntry?)>
<!ATTLIST WorkoutEvent
  type         CDATA #REQUIRED
  date         CDATA #REQUIRED
  duration     CDATA #IMPLIED
  durationUnit CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type      CDATA #REQUIRED
  startDate CDATA #REQUIRED
  endDate   CDATA #REQUIRED
  average   CDATA #IMPLIED
  minimum   CDATA #IMPLIED
  maximum   CDATA #IMPLIED
  sum       CDATA #IMPLIED
  unit      CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
]>
"""
DTD_11 = DTD_14.replace("Version: 14", "Version: 11").replace(
    "  durationUnit          CDATA #IMPLIED\n",
    "  durationUnit          CDATA #IMPLIED\n  totalDistance         CDATA #IMPLIED\n"
    "  totalDistanceUnit     CDATA #IMPLIED\n  totalEnergyBurned     CDATA #IMPLIED\n"
    "  totalEnergyBurnedUnit CDATA #IMPLIED\n",
)

WATCH = "Alex’s Apple Watch"
PHONE = "Alex’s iPhone"
DEVICE = (
    "&lt;&lt;HKDevice: 0x3037cec10&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    "hardware:Watch6,10, software:10.6.1&gt;"
)


@dataclass
class ExportBuilder:
    version: int = 14
    records: list[str] = field(default_factory=list)
    workouts: list[str] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)

    def record(
        self,
        kind: str,
        start: str,
        end: str | None,
        value: float | str,
        unit: str | None,
        source: str = WATCH,
    ) -> None:
        unit_attr = f' unit="{unit}"' if unit is not None else ""
        self.records.append(
            f'<Record type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" sourceVersion="10.6.1"'
            f' device="{DEVICE}"{unit_attr} creationDate="{end or start}" startDate="{start}"'
            f' endDate="{end or start}" value="{value}">\n'
            ' <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="2"/>\n</Record>'
        )

    def workout(
        self,
        kind: str,
        start: str,
        end: str,
        *,
        duration_min: float | None = None,
        children: str = "",
        distance_km: float | None = None,
        energy_kcal: float | None = None,
        source: str = WATCH,
    ) -> None:
        attrs = f'workoutActivityType="HKWorkoutActivityType{kind}"'
        if duration_min is not None:
            attrs += f' duration="{duration_min}" durationUnit="min"'
        stats = ""
        if self.version <= 11:
            if distance_km is not None:
                attrs += f' totalDistance="{distance_km}" totalDistanceUnit="km"'
            if energy_kcal is not None:
                attrs += f' totalEnergyBurned="{energy_kcal}" totalEnergyBurnedUnit="kcal"'
        else:
            if distance_km is not None:
                stats += (
                    f'<WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" '
                    f'startDate="{start}" endDate="{end}" sum="{distance_km}" unit="km"/>\n'
                )
            if energy_kcal is not None:
                stats += (
                    f'<WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" '
                    f'startDate="{start}" endDate="{end}" sum="{energy_kcal}" unit="kcal"/>\n'
                )
        self.workouts.append(
            f'<Workout {attrs} sourceName="{source}" sourceVersion="10.6.1" device="{DEVICE}" '
            f'creationDate="{end}" startDate="{start}" endDate="{end}">\n'
            f'<MetadataEntry key="HKIndoorWorkout" value="0"/>\n{children}{stats}</Workout>'
        )

    def route(self, name: str, points: list[tuple[str, float, float, float]]) -> str:
        """A route GPX (times ISO Z; lat, lon, ele) as Apple writes them; returns the FileReference."""
        pts = "".join(
            f'<trkpt lon="{lon}" lat="{lat}"><ele>{ele}</ele><time>{t}</time>'
            "<extensions><speed>3.1</speed><course>90.0</course><hAcc>2.0</hAcc><vAcc>1.5</vAcc>"
            "</extensions></trkpt>\n"
            for t, lat, lon, ele in points
        )
        self.routes[name] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Apple Health Export" '
            'xmlns="http://www.topografix.com/GPX/1/1">\n<metadata><time>2023-05-01T09:00:00Z</time>'
            f"</metadata>\n<trk><name>Route</name><trkseg>\n{pts}</trkseg></trk>\n</gpx>\n"
        )
        return f"/workout-routes/{name}"

    def xml(self) -> str:
        dtd = DTD_14 if self.version >= 12 else DTD_11
        body = "\n".join([*self.records, *self.workouts])
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n{dtd}<HealthData locale="en_DE">\n'
            '<ExportDate value="2023-06-01 10:00:00 +0200"/>\n'
            '<Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01" '
            'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" '
            'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
            'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
            'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n'
            f"{body}\n</HealthData>\n"
        )

    def write_folder(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "export.xml").write_text(self.xml(), encoding="utf-8")
        (folder / "export_cda.xml").write_text("<ClinicalDocument/>\n", encoding="utf-8")
        for name, text in self.routes.items():
            (folder / "workout-routes").mkdir(exist_ok=True)
            (folder / "workout-routes" / name).write_text(text, encoding="utf-8")
        return folder / "export.xml"

    def write_zip(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("apple_health_export/export.xml", self.xml())
            zf.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>\n")
            for name, text in self.routes.items():
                zf.writestr(f"apple_health_export/workout-routes/{name}", text)
        return path
