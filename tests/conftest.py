"""Shared fixtures: stores on every backend, and a comm that records what a widget sends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm

import labwidget as lw
from labwidget import cli

PG_URL = os.environ.get("LABWIDGET_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under CI a skip is a failure: CI must run every test, the browser and PostgreSQL ones too."""
    report = yield
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {report.longrepr}"
    return report


class RecordingComm(BaseComm):  # type: ignore[misc]
    """A comm with no kernel behind it that keeps every message the widget publishes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **_: Any
    ) -> None:
        self.published.append({"msg_type": msg_type, "data": data, "buffers": buffers})


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy.engine import make_url

    admin = make_url(PG_URL).set(drivername="postgresql")
    try:
        connection = psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {PG_URL}: {exc}")
    name = f"labwidget_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location on each backend: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "labels.db")
    url: str = request.getfixturevalue("pg_url")
    assert cli.main(["db", "upgrade", url]) == 0
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[lw.Store]:
    with lw.Store(store_url, annotator="tester") as opened:
        yield opened
