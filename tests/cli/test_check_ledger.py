"""`faultline check-ledger`: exit 1 with each disagreement listed; `--repair` fixes them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.store import ledger
from app.store.store import Store
from app.store.tables import fivemin
from tests.store.test_ledger import make_store, records


def test_a_corrupted_rollup_fails_the_check_until_repaired(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    opened: list[Store] = []
    store, slo_id = make_store(url, opened)
    start = 1_699_999_200
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, records(start, 120))
        connection.execute(
            fivemin.update()
            .where(fivemin.c.slo_id == slo_id, fivemin.c.bucket == start + 600)
            .values(bad=fivemin.c.bad + 1)
        )
    store.close()
    runner = CliRunner()
    check = runner.invoke(cli, ["check-ledger", "--database-url", url])
    assert check.exit_code == 1, check.output
    assert f"s/x: 5m rollup ending {start + 600}: bad is" in check.output
    repair = runner.invoke(cli, ["check-ledger", "--repair", "--database-url", url])
    assert repair.exit_code == 0, repair.output
    assert "repaired 1 rollup field(s)" in repair.output
    again = runner.invoke(cli, ["check-ledger", "--database-url", url])
    assert again.exit_code == 0, again.output
    assert "ledger consistent: the rollups of 1 SLO(s) equal their slices" in again.output
