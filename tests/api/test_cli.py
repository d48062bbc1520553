"""The `fugong` command as a user runs it."""

import os
import subprocess
import sys

from sqlalchemy import Engine, text


def fugong(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_db_url_prints_database_url_when_set():
    result = fugong("db", "url", DATABASE_URL="postgresql://u@db.example:5432/x")
    assert result.stdout.strip() == "postgresql://u@db.example:5432/x"


def test_seed_refuses_to_write_over_data(engine: Engine):
    url = engine.url.render_as_string(hide_password=False)
    result = fugong("seed", DATABASE_URL=url)
    assert result.returncode != 0 and "--reset" in result.stderr
    assert "left as it is" in fugong("seed", "--if-empty", DATABASE_URL=url).stdout


def test_migrate_twice_changes_nothing(engine: Engine):
    url = engine.url.render_as_string(hide_password=False)
    assert fugong("migrate", DATABASE_URL=url).returncode == 0
    assert fugong("migrate", DATABASE_URL=url).returncode == 0


def test_managed_server_is_not_started_or_stopped_by_fugong():
    result = fugong("db", "stop", DATABASE_URL="postgresql://u@db.example:5432/x")
    assert result.returncode != 0 and "DATABASE_URL" in result.stderr


def test_user_add_list_disable(engine: Engine):
    url = engine.url.render_as_string(hide_password=False)
    name = f"cli-{os.getpid()}"
    try:
        added = subprocess.run(
            [sys.executable, "-m", "api", "user", "add", name, "--role", "TOWN_OFFICER",
             "--town", "350112109", "--password-stdin"],
            input="s3cret-pass\n", capture_output=True, text=True,
            env={**os.environ, "DATABASE_URL": url}, timeout=60,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        listed = fugong("user", "list", DATABASE_URL=url).stdout
        assert any(line.split()[:4] == [name, "TOWN_OFFICER", "350112109", "enabled"]
                   for line in listed.splitlines())  # fmt: skip
        assert fugong("user", "disable", name, DATABASE_URL=url).returncode == 0
        assert f"{name}" in fugong("user", "list", DATABASE_URL=url).stdout
        assert "disabled" in [
            line.split()[-1] for line in fugong("user", "list", DATABASE_URL=url).stdout.splitlines()
            if line.startswith(name)
        ]  # fmt: skip
        again = fugong("user", "add", name, "--role", "DISTRICT_OFFICER", "--password-stdin",
                       DATABASE_URL=url)  # fmt: skip
        assert again.returncode != 0
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM account WHERE username = :u"), {"u": name})
