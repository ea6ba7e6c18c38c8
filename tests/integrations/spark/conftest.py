"""Real engines for the Spark and warehouse tests: a local[2] SparkSession on the machine's
Java 17, an embedded DuckDB file and a PostgreSQL 15 server on 127.0.0.1 (initdb as the
`postgres` user, which it requires), plus one data set written as Parquet that every engine and
the pandas fast path read."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from tools.engine_comparison import sample_frame
from tools.processes import free_port


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    return sample_frame()


@pytest.fixture(scope="session")
def parquet(frame, tmp_path_factory) -> Path:
    """The sample as a Parquet folder of two files, as Spark jobs write datasets."""
    folder = tmp_path_factory.mktemp("data") / "orders"
    folder.mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "part-0.parquet", index=False)
    frame.iloc[half:].to_parquet(folder / "part-1.parquet", index=False)
    return folder


@pytest.fixture(scope="session")
def spark():
    """One local[2] SparkSession for the test process: small shuffles, no UI, no progress bars."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlops-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def duckdb_url(frame, tmp_path_factory) -> str:
    """A DuckDB file holding the sample as table `orders`."""
    import duckdb

    path = tmp_path_factory.mktemp("duckdb") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.register("sample", frame)
        connection.execute("CREATE TABLE orders AS SELECT * FROM sample")
    return f"duckdb:///{path}"


def _postgres_bin() -> Path:
    found = shutil.which("pg_ctl")
    candidates = [Path(found).parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists():
            return folder
    pytest.fail("PostgreSQL is not installed: apt-get install postgresql (initdb, pg_ctl)")


@pytest.fixture(scope="session")
def postgres_url(frame):
    """A PostgreSQL server of its own on 127.0.0.1 (trust auth, socket in its own folder), with
    the sample as table `orders`; stopped after the tests."""
    import sqlalchemy as sa

    bin_dir = _postgres_bin()
    # Its own folder outside pytest's (which is private to root): the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="mlops-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    run_as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    if run_as:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "start",
            "-l",
            str(root / "server.log"),
        ],
        check=True,
        capture_output=True,
    )
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    try:
        engine = sa.create_engine(url)
        frame.to_sql("orders", engine, index=False)
        engine.dispose()
        yield url
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
