"""Progress inside one large Apple Health export (bytes of export.xml over both passes, reported by the
reader, forwarded by the import service from a worker process too) and an export.zip nested in another
zip, read from inside it (never extracted, routes kept)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from hk_export import PHONE, WATCH, ExportBuilder

from stridelab.io.healthkit import HealthKitReader
from stridelab.model import Activity
from stridelab.services.health import walking_gait
from stridelab.services.imports import import_paths
from stridelab.store import Store


def _export(n_records: int = 12_000) -> ExportBuilder:
    """A run with a route, heart rate every second around it (a few MB) and walking gait on a day."""
    b = ExportBuilder(version=14)
    for i in range(n_records):
        h, rest = divmod(i, 3600)
        m, s = divmod(rest, 60)
        t = f"2023-05-01 {6 + h:02d}:{m:02d}:{s:02d} +0200"
        b.record("HeartRate", t, None, 120 + i % 40, "count/min", WATCH)
    b.record("WalkingStepLength", "2023-05-02 10:00:00 +0200", "2023-05-02 10:01:00 +0200", 70, "cm", PHONE)
    route = b.route(
        "route_2023-05-01_7.00am.gpx",
        [("2023-05-01T05:00:05Z", 52.5, 13.4, 35.0), ("2023-05-01T05:00:15Z", 52.5001, 13.4002, 36.5)],
    )
    start, end = "2023-05-01 07:00:00 +0200", "2023-05-01 07:30:00 +0200"
    b.workout(
        "Running",
        start,
        end,
        duration_min=30.0,
        distance_km=5.0,
        children=f'<WorkoutRoute sourceName="{WATCH}" startDate="{start}" endDate="{end}">'
        f'<FileReference path="{route}"/></WorkoutRoute>\n',
    )
    return b


def _check(reports: list[tuple[int, int]], xml_bytes: int) -> None:
    assert len(reports) >= 3
    done = [d for d, _ in reports]
    assert done == sorted(done) and all(t == 2 * xml_bytes for _, t in reports)
    assert reports[-1] == (2 * xml_bytes, 2 * xml_bytes)


def test_the_reader_reports_bytes_of_both_passes(tmp_path: Path) -> None:
    b = _export()
    xml = b.write_folder(tmp_path / "apple_health_export")
    size = xml.stat().st_size
    assert size > 2_000_000
    for source in (xml, b.write_zip(tmp_path / "export.zip")):
        reports: list[tuple[int, int]] = []
        results = list(HealthKitReader().read_all(source, progress=lambda d, t, r=reports: r.append((d, t))))
        _check(reports, size)
        assert sum(isinstance(r, Activity) for r in results) == 1
    assert list(HealthKitReader().read_all(xml)) != []  # no progress asked for: none reported


@pytest.mark.parametrize("workers", [1, 2])
def test_the_import_forwards_file_progress(tmp_path: Path, shared_data: Path, workers: int) -> None:
    """In-process and from a worker process (through a queue), under the file's display name."""
    folder = tmp_path / "in"
    b = _export()
    xml = b.write_folder(folder / "apple_health_export")
    fits = sorted((shared_data / "fit" / "Runalyze__Runalyze").glob("*.fit"))[:2]
    for f in fits:  # three items, more than 4 MB: a pool of workers with workers=2
        shutil.copy(f, folder / f.name)
    reports: dict[str, list[tuple[int, int]]] = {}
    res = import_paths(
        Store.open(tmp_path / "s"),
        [folder],
        workers=workers,
        file_progress=lambda p, d, t: reports.setdefault(p, []).append((d, t)),
    )
    assert not res.failed, res.failed
    assert list(reports) == [str(xml)]  # only the streamed export reports bytes
    _check(reports[str(xml)], xml.stat().st_size)


def test_an_export_zip_inside_a_zip_is_streamed_with_its_routes(tmp_path: Path) -> None:
    b = _export(n_records=500)
    inner = b.write_zip(tmp_path / "export.zip")
    outer = tmp_path / "backup.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(inner, "phone/export.zip")
        zf.writestr("phone/readme.txt", "hello")
    st = Store.open(tmp_path / "s")
    reports: list[tuple[str, int, int]] = []
    res = import_paths(st, [outer], workers=1, file_progress=lambda p, d, t: reports.append((p, d, t)))
    assert not res.failed, res.failed
    assert [p for p, _ in res.imported] == [f"{outer}!phone/export.zip"]
    (row,) = st.list_activities("me")
    rec = st.records("me", row.id)
    assert rec["lat_deg"].notna().any()  # the route inside the nested export was read
    assert walking_gait(st, "me").daily["walking_step_length_m"].iloc[0] == pytest.approx(0.70)
    assert reports and reports[-1][0] == f"{outer}!phone/export.zip" and reports[-1][1] == reports[-1][2]
    spill = list(Path(tmp_path).glob("**/nested-*.zip"))
    assert not spill  # never extracted
    again = import_paths(st, [outer], workers=1)  # re-import: known, skipped
    assert not again.imported and len(again.skipped) == 1


def test_the_cli_shows_a_bar_for_the_export_in_a_terminal(tmp_path: Path) -> None:
    """``stridelab import`` in a real pseudo-terminal: the Rich progress has the export's own bar."""
    import os
    import pty
    import subprocess
    import sys

    xml = _export().write_folder(tmp_path / "apple_health_export")
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    cmd = [sys.executable, "-m", "stridelab", "import", str(xml), "--store", str(tmp_path / "s")]
    proc = subprocess.Popen(cmd, stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    assert proc.wait() == 0, out[-2000:]
    text = out.decode(errors="replace")
    assert "reading export.xml" in text and "MB" in text
    assert "imported" in text
