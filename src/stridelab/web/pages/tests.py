"""Balance tests (``/tests``): enter a one-leg stand test, see the history and its chart; function tests
(five-times sit-to-stand, tandem walk) through ``/api/function-tests`` and in the same chart."""

from __future__ import annotations

import datetime as _dt
from datetime import date, timedelta
from typing import Literal

import pandas as pd
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

import stridelab.web._charts as _charts
from stridelab.frames import Side
from stridelab.services.training import (
    balance_history,
    balance_summary,
    balance_test_records,
    function_test_history,
    function_test_records,
    record_balance_test,
    record_function_test,
)
from stridelab.web._state import WebState
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["router"]

router = APIRouter()


class BalanceTestIn(BaseModel):
    """One single-leg stand: seconds until the lifted foot touched down."""

    side: Side
    seconds: float = Field(ge=0, le=600)
    eyes: Literal["open", "closed"] = "open"
    date: _dt.date | None = None
    note: str | None = Field(None, max_length=500)


def _history(st: WebState) -> pd.DataFrame:
    return balance_history(st.store, st.athlete)


def _record(st: WebState, body: BalanceTestIn) -> int:
    day = body.date or st.today()
    if day > st.today() + timedelta(days=1):
        raise HTTPException(422, "Invalid value for 'date': a test cannot be in the future.")
    note = body.note.strip() if body.note and body.note.strip() else None
    try:
        return st.write(
            lambda: record_balance_test(st.store, st.athlete, body.side, body.seconds, body.eyes, day, note)
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/tests", tags=["balance tests"], summary="Balance test history")
def api_tests(request: Request) -> JSONText:
    """Every test (oldest first) and the recent means per side (what a plan is tailored to)."""
    df = _history(state(request))
    summary = [
        {
            "eyes": b.eyes,
            "left_s": b.left_s,
            "right_s": b.right_s,
            "n_left": b.n_left,
            "n_right": b.n_right,
            "asymmetry_pct": b.asymmetry_pct,
        }
        for b in balance_summary(df)
    ]
    return JSONText({"tests": balance_test_records(df), "recent": summary})


@router.post("/api/tests", tags=["balance tests"], summary="Record a balance test")
def api_add_test(request: Request, body: BalanceTestIn) -> JSONText:
    """Store one test; answers its id."""
    return JSONText({"id": _record(state(request), body)})


class FunctionTestIn(BaseModel):
    """One function test timed by hand: five-times sit-to-stand or tandem walk (issue 20)."""

    test: Literal["sit_to_stand_5x", "tandem_walk"]
    seconds: float = Field(gt=0, le=600)
    steps_off: int | None = Field(None, ge=0, le=100)
    date: _dt.date | None = None
    note: str | None = Field(None, max_length=500)


@router.get("/api/function-tests", tags=["balance tests"], summary="Function test history")
def api_function_tests(request: Request) -> JSONText:
    """Every five-times sit-to-stand and tandem-walk test (oldest first)."""
    st = state(request)
    return JSONText({"tests": function_test_records(function_test_history(st.store, st.athlete))})


@router.post("/api/function-tests", tags=["balance tests"], summary="Record a function test")
def api_add_function_test(request: Request, body: FunctionTestIn) -> JSONText:
    """Store one function test; answers its id."""
    return JSONText({"id": _record_function(state(request), body)})


def _record_function(st: WebState, body: FunctionTestIn) -> int:
    day = body.date or st.today()
    if day > st.today() + timedelta(days=1):
        raise HTTPException(422, "Invalid value for 'date': a test cannot be in the future.")
    note = body.note.strip() if body.note and body.note.strip() else None
    try:
        test_id = st.write(
            lambda: record_function_test(
                st.store, st.athlete, body.test, body.seconds, steps_off=body.steps_off, day=day, note=note
            )
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return int(test_id)


@router.get("/api/tests/chart", tags=["balance tests"], summary="Balance test chart (Plotly JSON)")
def api_tests_chart(request: Request) -> JSONText:
    st = state(request)
    return JSONText(_charts.balance_tests_chart(_history(st), function_test_history(st.store, st.athlete)))


def _page(
    request: Request, message: str | None = None, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    df = _history(state(request))
    return render(
        request,
        "tests.html",
        status_code=status_code,
        title="Balance tests",
        tests=list(reversed(balance_test_records(df))),
        recent=balance_summary(df),
        function_tests=list(
            reversed(
                function_test_records(function_test_history(state(request).store, state(request).athlete))
            )
        ),
        message=message,
        error=error,
    )


@router.get("/tests", response_class=HTMLResponse, include_in_schema=False)
def tests_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/tests", response_class=HTMLResponse, include_in_schema=False)
def tests_form(
    request: Request,
    side: str = Form(...),
    seconds: str = Form(...),
    eyes: str = Form("open"),
    day: str = Form(""),
    note: str = Form("", max_length=500),
) -> HTMLResponse:
    try:
        body = BalanceTestIn(
            side=side,  # type: ignore[arg-type]
            seconds=float(seconds),
            eyes=eyes,  # type: ignore[arg-type]
            date=date.fromisoformat(day) if day else None,
            note=note or None,
        )
        _record(state(request), body)
    except HTTPException as exc:
        return _page(request, error=str(exc.detail), status_code=exc.status_code)
    except ValueError as exc:
        return _page(request, error=f"Invalid test: {exc}", status_code=422)
    return _page(request, message=f"Saved: {body.side} leg, eyes {body.eyes}, {body.seconds:g} s.")


@router.post("/tests/function", response_class=HTMLResponse, include_in_schema=False)
def function_tests_form(
    request: Request,
    test: str = Form(...),
    seconds: str = Form(...),
    steps_off: str = Form(""),
    day: str = Form(""),
    note: str = Form("", max_length=500),
) -> HTMLResponse:
    try:
        body = FunctionTestIn(
            test=test,  # type: ignore[arg-type]
            seconds=float(seconds),
            steps_off=int(steps_off) if steps_off.strip() else None,
            date=date.fromisoformat(day) if day else None,
            note=note or None,
        )
        _record_function(state(request), body)
    except HTTPException as exc:
        return _page(request, error=str(exc.detail), status_code=exc.status_code)
    except ValueError as exc:
        return _page(request, error=f"Invalid test: {exc}", status_code=422)
    return _page(request, message=f"Saved: {body.test.replace('_', ' ')}, {body.seconds:g} s.")
