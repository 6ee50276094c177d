"""Import (``/import``): drag-and-drop upload of FIT, GPX, TCX (each also gzipped), zip exports and Apple
Health ``export.xml`` files, with progress.

Each file is one ``POST /api/import?filename=...`` whose body is the file itself (no multipart
parsing): the server streams it to a private temp folder, refusing it as soon as it exceeds the size
limit, checks the extension *and* the leading bytes (FIT header, gzip or zip signature, XML), then queues
:func:`stridelab.services.imports.import_paths` -- the CLI's import -- on the writer thread. The answer (202)
names a job; ``GET /api/import/jobs/{id}`` reports its progress and result.

The client's file name is only displayed and kept as the catalog's source name: it is reduced to
letters, digits, ``._-`` and never used as a path component as given.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from stridelab.web.pages._common import JSONText, render, state

__all__ = ["ALLOWED_SUFFIXES", "router", "safe_filename"]

router = APIRouter()
ALLOWED_SUFFIXES: Final[tuple[str, ...]] = (
    ".fit.gz",
    ".gpx.gz",
    ".tcx.gz",
    ".fit",
    ".gpx",
    ".tcx",
    ".xml",
    ".zip",
)
_XML_SUFFIXES: Final[tuple[str, ...]] = (".gpx", ".tcx", ".xml")
#: uploads queued or running at once (more get 429: wait for the others)
MAX_ACTIVE_JOBS: Final[int] = 16
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """A display/file name without any path: the last component, reduced to ``[A-Za-z0-9._-]``, no
    leading dots, at most 100 characters, ending with an allowed suffix (else 415)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_CHARS.sub("_", base).lstrip(".")[-100:].lstrip(".")
    lower = base.lower()
    suffix = next((s for s in ALLOWED_SUFFIXES if lower.endswith(s)), None)
    if suffix is None or len(base) <= len(suffix):
        raise HTTPException(
            415,
            f"Unsupported file {name[:100]!r}: upload .fit, .gpx or .tcx files (or .gz of one), zip "
            "exports or an Apple Health export.xml.",
        )
    return base


def _signature_ok(name: str, head: bytes) -> bool:
    lower = name.lower()
    if lower.endswith(".zip"):
        return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")
    if lower.endswith(".gz"):
        return head[:2] == b"\x1f\x8b"
    if lower.endswith(_XML_SUFFIXES):  # XML: optional byte-order mark and whitespace, then "<"
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
        return text[:1] == b"<" or (not text and len(head) < 12)
    return len(head) >= 12 and head[8:12] == b".FIT"


@router.post("/api/import", status_code=202, tags=["import"], summary="Upload one file to import")
async def api_import(
    request: Request,
    filename: str = Query(
        ..., min_length=1, max_length=255, description="The file's name (.fit, .gpx, .tcx, .gz, .zip, .xml)"
    ),
) -> JSONText:
    """The request body is the file. 413 above the size limit, 415 for other types, 202 + job."""
    st = state(request)
    limit = st.config.max_upload_bytes
    name = safe_filename(filename)
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(413, f"File too large: the limit is {limit // (1024 * 1024)} MB.")
        except ValueError as exc:
            raise HTTPException(400, "Invalid Content-Length.") from exc
    if st.active_jobs() >= MAX_ACTIVE_JOBS:
        raise HTTPException(429, "Too many imports running: wait for them to finish.")
    folder = Path(tempfile.mkdtemp(prefix="stridelab-upload-"))
    target = folder / name
    size = 0
    head = b""
    ok = False
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"File too large: the limit is {limit // (1024 * 1024)} MB.")
                if len(head) < 12:
                    head = (head + chunk)[:12]
                    if len(head) >= 12 and not _signature_ok(name, head):
                        raise HTTPException(
                            415, f"{name} is not a FIT, XML, gzip or zip file (wrong header)."
                        )
                fh.write(chunk)
        if size == 0:
            raise HTTPException(400, "Empty file.")
        if not _signature_ok(name, head):
            raise HTTPException(415, f"{name} is not a FIT, XML, gzip or zip file (wrong header).")
        job = st.start_import(name, target, size)
        ok = True
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
    return JSONText(job.to_json(), status_code=202, headers={"Location": f"/api/import/jobs/{job.id}"})


@router.get("/api/import/jobs/{job_id}", tags=["import"], summary="Progress of an import")
def api_import_job(request: Request, job_id: str = PathParam(pattern=r"^[0-9a-f]{32}$")) -> JSONText:
    """``status`` queued/running/done/failed, ``done``/``total`` items, and the import result."""
    st = state(request)
    with st.jobs_lock:
        job = st.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "No such import job.")
    return JSONText(job.to_json())


@router.get("/import", response_class=HTMLResponse, include_in_schema=False)
def import_page(request: Request) -> HTMLResponse:
    st = state(request)
    with st.jobs_lock:
        jobs = [j.to_json() for j in reversed(st.jobs.values())][:10]
    return render(
        request,
        "import.html",
        title="Import",
        max_mb=st.config.max_upload_bytes / (1024 * 1024),
        max_bytes=st.config.max_upload_bytes,
        jobs=jobs,
    )
