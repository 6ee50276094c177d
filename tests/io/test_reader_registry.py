"""The reader registry of ``stridelab.io`` and the import service that routes through it."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import stridelab.io as sio
import stridelab.io._reader as registry
from stridelab.io import Reader, UnsupportedFileError, read_any, reader_for
from stridelab.io.imu import ImuRecording
from stridelab.model import Activity
from stridelab.services.imports import import_paths
from stridelab.store import Store

FIT = "dtcooper__python-fitparse/garmin-fenix-5-run.fit"


@pytest.fixture
def fit_file(shared_data: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "in" / "run.fit"
    dst.parent.mkdir()
    shutil.copy(shared_data / "fit" / FIT, dst)
    return dst


@pytest.fixture
def imu_file(tmp_path: Path) -> Path:
    from stridelab.sim.imu import ImuTruth, simulate_imu, write_table_with_sidecar

    sim = simulate_imu(ImuTruth(duration_s=6.0, placements=("shank",)), seed=3)
    recording = dataclasses.replace(sim.recording, activity="running")
    (tmp_path / "imu").mkdir()
    return write_table_with_sidecar(recording, tmp_path / "imu" / "shanks.csv")


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Readers registered by a test are gone after it."""
    sio.readers()  # the built-ins first
    saved = list(registry._READERS)
    yield
    registry._READERS[:] = saved


def test_builtin_readers_and_dispatch(fit_file: Path, imu_file: Path, tmp_path: Path) -> None:
    names = [r.name for r in sio.readers()]
    assert set(names) == {"fit", "imu", "healthkit", "tcx", "gpx"}
    assert reader_for(fit_file).name == "fit"
    assert reader_for(imu_file).name == "imu"
    activity = read_any(fit_file)
    assert isinstance(activity, Activity) and activity.source_path == str(fit_file)
    recording = read_any(imu_file)
    assert isinstance(recording, ImuRecording) and recording.sensors
    assert sio.is_companion("shanks.imu.json") and not sio.is_companion("shanks.csv")
    # content first: a FIT file under any name, and gzip-compressed under any name
    odd = tmp_path / "export-12345"
    odd.write_bytes(fit_file.read_bytes())
    assert reader_for(odd).name == "fit"
    packed = tmp_path / "export-12345.gz"
    packed.write_bytes(gzip.compress(fit_file.read_bytes()))
    assert reader_for(packed).name == "fit"
    assert read_any(packed).id == activity.id  # the id is the sha256 of the FIT bytes
    # extension second: a damaged .fit is still the FIT reader's (which says what is wrong)
    broken = tmp_path / "broken.fit"
    broken.write_text("not a FIT file at all")
    assert reader_for(broken).name == "fit"


def test_no_reader_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(UnsupportedFileError) as err:
        read_any(notes)
    assert str(notes) in str(err.value) and "FIT" in str(err.value) and "sidecar" in str(err.value)
    with pytest.raises(FileNotFoundError):
        read_any(tmp_path / "missing.fit")


class _PrefixedFit(Reader[Activity]):
    """A toy format: the bytes ``TOY!`` followed by a FIT file."""

    name: ClassVar[str] = "toy"
    description: ClassVar[str] = "toy files (.toy)"
    extensions: ClassVar[tuple[str, ...]] = (".toy",)
    produces: ClassVar[type] = Activity

    def sniff(self, head: bytes, name: str) -> bool:
        return head.startswith(b"TOY!")

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> Activity:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        from stridelab.io.fit import read_activity

        return read_activity(data[4:], source_path=name)


def test_a_new_format_is_one_reader_and_the_import_routes_it(
    fit_file: Path, tmp_path: Path, scratch_registry: None
) -> None:
    folder = fit_file.parent
    (folder / "ride.dat").write_bytes(b"TOY!" + fit_file.read_bytes())
    (folder / "notes.txt").write_text("not for any reader")
    store = Store.open(tmp_path / "s")
    before = import_paths(store, [folder], workers=1)
    assert len(before.imported) == 1
    assert before.ignored == [str(folder / "notes.txt"), str(folder / "ride.dat")]
    sio.register(_PrefixedFit())
    assert [r.name for r in sio.readers()][-1] == "toy"
    after = import_paths(store, [folder], workers=1)
    # the toy file holds the same FIT bytes: same activity id, so it is already present
    assert sorted(p for p, _ in after.skipped) == [str(folder / "ride.dat"), str(folder / "run.fit")]
    assert after.ignored == [str(folder / "notes.txt")] and not after.failed


def test_explicit_file_no_reader_takes_fails_with_the_reason(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00" * 40)
    result = import_paths(Store.open(tmp_path / "s"), [junk], workers=1)
    assert result.failed and result.failed[0][0] == str(junk)
    assert result.failed[0][1].startswith("not a file stridelab reads")
    assert result.exit_code == 1


def test_demo_service_generates_and_imports_a_season(tmp_path: Path) -> None:
    from stridelab.services import demo

    done = demo.import_demo_season(Store.open(tmp_path / "s"), "me", n_runs=3, seed=1, workers=1)
    assert done.generated == 3 and len(done.result.imported) == 3 and done.generate_seconds > 0
    with demo.generated_season(n_runs=2, seed=2) as season:
        folder = season.paths[0].parent
        assert len(season.paths) == 2 and all(p.exists() for p in season.paths)
    assert not folder.exists()


class _Bundle(Reader[Activity]):
    """A toy multi-activity format: ``BNDL`` then FIT files, each behind its 4-byte length."""

    name: ClassVar[str] = "bundle"
    description: ClassVar[str] = "bundles (.bndl)"
    extensions: ClassVar[tuple[str, ...]] = (".bndl",)
    produces: ClassVar[type] = Activity
    multi: ClassVar[bool] = True

    def sniff(self, head: bytes, name: str) -> bool:
        return head.startswith(b"BNDL")

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> Activity:
        return next(self.read_all(source, name=name))

    def read_all(
        self, source: str | Path | bytes, *, name: str | None = None, **options: Any
    ) -> Iterator[Activity]:
        from stridelab.io.fit import read_activity

        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        at = 4
        while at < len(data):
            size = int.from_bytes(data[at : at + 4], "big")
            yield read_activity(data[at + 4 : at + 4 + size], source_path=name)
            at += 4 + size


def _bundle(*parts: bytes) -> bytes:
    return b"BNDL" + b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def test_a_file_with_several_activities_stores_each(
    shared_data: Path, fit_file: Path, tmp_path: Path, scratch_registry: None
) -> None:
    sio.register(_Bundle())
    other = (shared_data / "fit" / "dtcooper__python-fitparse/garmin-edge-500-activity.fit").read_bytes()
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "two.bndl").write_bytes(_bundle(fit_file.read_bytes(), other))
    store = Store.open(tmp_path / "s")
    first = import_paths(store, [folder], workers=1)
    two = str(folder / "two.bndl")
    assert [p for p, _ in first.imported] == [f"{two}#1", f"{two}#2"] and not first.failed
    assert len(store.list_activities("me")) == 2
    # unchanged: skipped by the source cache without reading; a changed file re-reads and skips each
    assert import_paths(store, [folder], workers=1).skipped == [(two, first.imported[0][1])]
    (folder / "two.bndl").write_bytes(_bundle(other, fit_file.read_bytes()))
    again = import_paths(store, [folder], workers=1)
    assert not again.imported and len(again.skipped) == 2 and len(store.list_activities("me")) == 2
    # a bundle holding nothing is a failed file with the reason
    (folder / "empty.bndl").write_bytes(b"BNDL")
    empty = import_paths(store, [folder / "empty.bndl"], workers=1)
    assert empty.failed == [(str(folder / "empty.bndl"), "ValueError: no activity in the file")]


class _Album(Reader[Activity]):
    """A toy archive format: a zip with ``album.txt`` is read whole (its FIT members, in name order),
    not walked member by member. Streams: it is handed the zip's path."""

    name: ClassVar[str] = "album"
    description: ClassVar[str] = "albums (.zip with album.txt)"
    produces: ClassVar[type] = Activity
    multi: ClassVar[bool] = True
    streams: ClassVar[bool] = True

    def sniff(self, head: bytes, name: str) -> bool:
        return False

    @classmethod
    def takes_archive(cls, names: list[str]) -> bool:
        return "album.txt" in names

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> Activity:
        return next(self.read_all(source, name=name))

    def read_all(
        self, source: str | Path | bytes, *, name: str | None = None, **options: Any
    ) -> Iterator[Activity]:
        import zipfile

        from stridelab.io.fit import read_activity

        assert isinstance(source, Path), "a streaming reader is handed the path"
        with zipfile.ZipFile(source) as zf:
            for member in sorted(n for n in zf.namelist() if n.endswith(".fit")):
                yield read_activity(zf.read(member), source_path=f"{name}!{member}")


def test_a_reader_may_take_a_whole_zip(fit_file: Path, tmp_path: Path, scratch_registry: None) -> None:
    import zipfile

    sio.register(_Album())
    assert sio.archive_reader(["album.txt", "a.fit"]).name == "album"  # type: ignore[union-attr]
    assert sio.archive_reader(["a.fit"]) is None
    album = tmp_path / "album.zip"
    plain = tmp_path / "plain.zip"
    for path, extra in ((album, {"album.txt": b"my runs"}), (plain, {"notes.txt": b"hi"})):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("runs/a.fit", fit_file.read_bytes())
            for n, data in extra.items():
                zf.writestr(n, data)
    store = Store.open(tmp_path / "s")
    whole = import_paths(store, [album], workers=1)
    assert [p for p, _ in whole.imported] == [str(album)] and not whole.ignored  # one item: the zip
    walked = import_paths(store, [plain], workers=1)  # no reader takes it whole: members walked
    assert [p for p, _ in walked.skipped] == [f"{plain}!runs/a.fit"] and walked.ignored == [
        f"{plain}!notes.txt"
    ]
