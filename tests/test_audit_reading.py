"""What `desk audit` and `desk explain` print, read as a person or a script reads it: piped
whole, dated where a time of day is ambiguous, true to the rule that fired, and a large journal
read in chunks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run_cli
from test_risk_runtime import make_session, script

import desk.query
from desk.audit import Journal, read_journal
from desk.engine import Engine
from desk.errors import JournalError
from desk.events import Trade
from desk.query import Query, select
from desk.strategy import Strategy
from desk.timeutil import format_ns

DAY_APART = script({"at": "+1m", "qty": 10, "reason": "monday"},
                   {"at": "+1d2m", "qty": 10, "reason": "tuesday"})


def _run(path: Path, **extra: object) -> Path:
    engine = Engine(make_session(**extra), path, strict=True)
    engine.run()
    engine.close()
    return path


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal of two orders a day apart (minute steps over about three days)."""
    return _run(tmp_path_factory.mktemp("days") / "journal.arrow", strategy=DAY_APART,
                data={"synthetic": {"events": 4_000, "step_ms": 60_000}})


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = run_cli(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_a_journal_over_several_days_shows_each_records_date(
        two_days: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a time of day alone would put Monday's and Tuesday's orders on one unnamed day
    orders = select(read_journal(two_days), Query(kinds=("order",)))
    dates = [format_ns(r["ts_ns"])[:23] for r in orders]
    assert len({d[:10] for d in dates}) == 2, dates
    out = _out(capsys, "audit", str(two_days), "--kind", "order")
    assert "time (UTC)" in out and all(date in out for date in dates), out
    chain = _out(capsys, "explain", str(two_days), str(orders[1]["order_id"]))
    assert dates[1] in chain, chain


def test_a_journal_within_one_day_keeps_the_short_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_day = _run(tmp_path / "journal.arrow", strategy=script({"at": "+5s", "qty": 10}))
    [order] = select(read_journal(one_day), Query(kinds=("order",)))
    out = _out(capsys, "audit", str(one_day), "--kind", "order")
    when = format_ns(order["ts_ns"])
    assert "time (UTC)" not in out and f"│ {when[11:23]} │" in out and when[:10] not in out


def test_piped_tables_keep_each_sentence_on_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `desk audit j > file` or `| grep`: a why folded at 80 columns splits the words a
    # search looks for over two lines
    monkeypatch.delenv("COLUMNS", raising=False)
    path = _run(tmp_path / "journal.arrow", strategy=script({"at": "+5s", "qty": 2_000}))
    [blocked] = select(read_journal(path), Query(outcome="blocked"))
    out = _out(capsys, "audit", str(path), "--outcome", "blocked")
    assert blocked["why"] in out, out
    chain = _out(capsys, "explain", str(path), "--seq", str(blocked["seq"]))
    assert blocked["why"] in chain, chain
    monkeypatch.setenv("COLUMNS", "60")  # a width asked for is kept
    narrow = _out(capsys, "audit", str(path), "--outcome", "blocked")
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_explain_gives_the_kill_switch_its_sentence_not_figures_of_a_zero_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # engaged, its verdict holds 1 / 0 / 0, which would read as a limit of zero and no headroom
    path = _run(tmp_path / "journal.arrow", strategy=script({"at": "+5s", "qty": 10}),
                risk={"kill_switch": {"engaged": True}})
    [blocked] = select(read_journal(path), Query(rule="kill_switch"))
    out = _out(capsys, "explain", str(path), "--seq", str(blocked["seq"]))
    row = next(line for line in out.splitlines() if line.startswith("kill_switch "))
    assert row.split()[1:5] == ["BLOCK", "—", "—", "—"], row
    assert "engaged" in row
    leverage = next(line for line in out.splitlines() if line.startswith("max_leverage "))
    assert "—" not in leverage.split("leverage", 2)[1], leverage  # a rule with a limit keeps it


def test_an_instrument_keeps_the_records_that_name_only_its_order(tmp_path: Path) -> None:
    # a cancel that reached the venue after the order was done names the order, not the
    # instrument: it is still one of ACME's records
    journal = Journal(tmp_path / "journal.arrow")
    ts = 1_704_205_800_000_000_000
    journal.record("order", ts, "sent buy 10 ACME", "ACME", None, 1)
    journal.record("order", ts, "sent buy 10 BETA", "BETA", None, 2)
    journal.record("cancel_reject", ts + 1, "cancel of order #1 reached the venue too late",
                   None, None, 1)
    journal.record("cancel_reject", ts + 2, "cancel of order #2 reached the venue too late",
                   None, None, 2)
    journal.record("mode", ts + 3, "mode ACTIVE → REDUCING")
    journal.close()
    table = read_journal(tmp_path / "journal.arrow")
    acme = select(table, Query(instrument="ACME"))
    assert [(r["kind"], r["order_id"]) for r in acme] == [("order", 1), ("cancel_reject", 1)]
    beta = select(table, Query(kinds=("cancel_reject",), instrument="BETA"))
    assert [r["order_id"] for r in beta] == [2]


@pytest.mark.parametrize("query, message", [
    (Query(kinds=("fill",), outcome="blocked"),
     "--outcome blocked keeps risk decisions only, and --kind fill asks for none"),
    (Query(kinds=("fill", "order"), rule="max_position"),
     "--rule max_position keeps records of kinds risk, limit_change, rule_toggle, control_error "
     "only, and --kind fill,order asks for none of them"),
])
def test_filters_that_exclude_each_other_are_an_error_not_an_empty_list(
        two_days: Path, query: Query, message: str) -> None:
    with pytest.raises(JournalError, match=message):
        select(read_journal(two_days), query)
    # one kind they keep among those asked for is a question with an answer
    kinds = (*(query.kinds or ()), "risk")
    select(read_journal(two_days), Query(kinds=kinds, outcome=query.outcome, rule=query.rule))


def test_a_large_journal_is_read_a_chunk_at_a_time(
        two_days: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the first records of `desk audit --json | head` cost a chunk, not the whole journal as
    # Python objects (a million-tick run's journal took 700 MiB to show 5 records)
    from desk.query import selection

    monkeypatch.setattr(desk.query, "CHUNK", 4)
    parsed: list[str | None] = []
    real = desk.query.details_of

    def counting(text: str | None, where: str = "") -> dict[str, object]:
        parsed.append(text)
        return real(text, where)

    monkeypatch.setattr(desk.query, "details_of", counting)
    table = read_journal(two_days)
    assert len(table) > 12
    first = next(iter(selection(table, Query())))
    assert first["seq"] == 0 and len(parsed) <= 4


def test_audit_counts_and_lines_agree_with_the_journal(
        two_days: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = read_journal(two_days)
    kinds = table.column("kind").to_pylist()
    out = _out(capsys, "audit", str(two_days), "--limit", "3")
    assert out.rstrip().endswith(f"{len(table):,} records (first 3 shown; --limit {len(table)} "
                                 "or --json for all)")
    lines = _out(capsys, "audit", str(two_days), "--kind", "market,order", "--json")
    records = [json.loads(line) for line in lines.splitlines()]
    assert len(records) == kinds.count("market") + kinds.count("order")
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)


def test_a_time_of_day_alone_is_refused_with_the_journals_start_to_write_it_from(
        two_days: Path) -> None:
    table = read_journal(two_days)
    start = format_ns(table.column("ts_ns")[0].as_py())[:19].replace(" ", "T") + "Z"
    with pytest.raises(JournalError) as error:
        select(table, Query(since="14:30"))
    assert str(error.value) == (f"--since: '14:30' is neither an ISO time nor an offset like "
                                f"\"+90s\" (the journal starts at {start})")
    assert select(table, Query(kinds=("order",), since=start))  # the time it gives reads


def test_a_narrow_screen_gives_each_sentence_its_lines_and_each_rule_its_whole_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # at 60 columns the table left the why a column three letters wide (or none, with
    # dates), and explain's verdicts cut the rule names: `max_positi…`
    monkeypatch.setenv("COLUMNS", "60")
    path = _run(tmp_path / "journal.arrow", strategy=script({"at": "+5s", "qty": 2_000}))
    [blocked] = select(read_journal(path), Query(outcome="blocked"))
    out = _out(capsys, "audit", str(path), "--outcome", "blocked")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert lines[0].split() == [str(blocked["seq"]), format_ns(blocked["ts_ns"])[11:23],
                                "blocked", "ACME"]
    assert " ".join(" ".join(lines[1:-1]).split()) == blocked["why"]
    chain = _out(capsys, "explain", str(path), "--seq", str(blocked["seq"]))
    names = [v["rule"] for v in blocked["details"]["verdicts"]]
    rows = [line.split()[0] for line in chain.splitlines() if line.split()
            and line.split()[0] in names]
    assert rows == names and "…" not in chain, chain


def test_explain_takes_an_order_id_as_audit_writes_it(
        two_days: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _out(capsys, "explain", str(two_days), "#1") == _out(capsys, "explain",
                                                                str(two_days), "1")
    with pytest.raises(SystemExit) as stop:
        run_cli(["explain", str(two_days), "one"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "desk explain: argument order_id: 'one' is not an order id (a whole number, as #N in "
        "`desk audit`'s order column) (see desk explain --help)")


MARKUP = "buy the [/] dip [bold]now"
"""A strategy's reason that Rich would read as markup: `[/]` fails, `[bold]` vanishes."""


def test_the_journals_words_are_printed_as_written_never_as_markup(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _run(tmp_path / "journal.arrow", strategy=script({"at": "+5s", "qty": 10,
                                                              "reason": MARKUP}))
    assert MARKUP in _out(capsys, "audit", str(path), "--kind", "signal")
    assert MARKUP in _out(capsys, "explain", str(path), "1")


UNSEEN = "cut\n    99  14:30:05.000  risk  allowed\x1b[2K\x1b[31m red\u202eright to left\x07"
"""A reason with a newline that would fake a record, escape sequences a terminal would obey
(clear the line, colour), a right-to-left override and a bell."""


@pytest.mark.parametrize("width", ["200", "30"])
def test_control_characters_in_the_journals_words_are_shown_as_escapes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        width: str) -> None:
    monkeypatch.setenv("COLUMNS", width)  # the table, and the narrow screen's folded sentences
    path = _run(tmp_path / "journal.arrow", strategy=script({"at": "+5s", "qty": 10,
                                                              "reason": UNSEEN}))
    shown = r"cut\n    99  14:30:05.000  risk  allowed\x1b[2K\x1b[31m red\u202eright to left\x07"
    for args in (("audit", str(path), "--kind", "signal"), ("explain", str(path), "1")):
        out = _out(capsys, *args)
        assert not any(c in out for c in "\x1b\u202e\x07"), args
        # no line that reads as a record the journal does not hold
        assert not any(line.lstrip(" │").startswith("99 ") for line in out.splitlines())
        assert "".join(shown.split()) in "".join(out.split())  # however it is folded
    # the exports keep the words exactly as the journal holds them
    [line] = _out(capsys, "audit", str(path), "--kind", "signal", "--json").splitlines()
    assert json.loads(line)["why"].startswith(UNSEEN)


def test_a_session_name_is_printed_as_written_by_run_and_compare(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_compare import write_session

    path = write_session(tmp_path, "plain")
    path.write_text(path.read_text().replace('name = "plain"', 'name = "fast [/] [bold]x"'))
    assert "desk · fast [/] [bold]x · seed" in _out(capsys, "run", str(path), "--out",
                                                    str(tmp_path / "[run]"))
    assert "fast [/] [bold]x" in _out(capsys, "compare", str(path), "--seeds", "1", "--jobs",
                                      "1")


def test_csv_gives_a_spreadsheet_every_record_with_its_columns(
        two_days: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv
    import io

    from desk.timeutil import parse_iso_ns

    table = read_journal(two_days)
    rows = list(csv.DictReader(io.StringIO(_out(capsys, "audit", str(two_days), "--csv"))))
    assert len(rows) == len(table)  # every record, not the table's first 200
    assert list(rows[0]) == ["seq", "time", "ts_ns", "kind", "outcome", "instrument", "order_id",
                             "cause", "why", "details"]
    for row, record in zip(rows, table.to_pylist(), strict=True):
        assert int(row["seq"]) == record["seq"] and row["why"] == record["why"]
        assert parse_iso_ns(row["time"]) == int(row["ts_ns"]) == record["ts_ns"]
        assert row["order_id"] == ("" if record["order_id"] is None else str(record["order_id"]))
        assert json.loads(row["details"] or "{}") == json.loads(record["details"] or "{}")
    decisions = [row["outcome"] for row in rows if row["kind"] == "risk"]
    assert decisions and set(decisions) <= {"allowed", "blocked"}
    first = _out(capsys, "audit", str(two_days), "--outcome", "allowed", "--csv", "--limit", "1")
    assert len(first.splitlines()) == 2  # the header and one record


def test_csv_keeps_text_a_spreadsheet_would_take_for_a_formula_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import csv
    import io

    journal = Journal(tmp_path / "journal.arrow")
    ts = 1_704_205_800_000_000_000
    written = ["=HYPERLINK(\"http://x\")", "+1 lot", "-2σ move", "@SUM(A1)", "\tgap",
               "plain - text", "momentum +0.06%"]
    for why in written:
        journal.record("signal", ts, why, "=CMD|' /C calc'!A0")
    journal.close()
    rows = list(csv.DictReader(io.StringIO(_out(capsys, "audit", str(tmp_path / "journal.arrow"),
                                                "--csv"))))
    assert [row["why"] for row in rows] == ["'=HYPERLINK(\"http://x\")", "'+1 lot",
                                            "'-2σ move", "'@SUM(A1)", "'\tgap", "plain - text",
                                            "momentum +0.06%"]
    assert {row["instrument"] for row in rows} == {"'=CMD|' /C calc'!A0"}
    assert {row["kind"] for row in rows} == {"signal"}


class NanEvidence(Strategy):
    """Sends one order whose evidence holds numbers JSON has no spelling for."""

    def on_trade(self, trade: Trade) -> None:
        if not self.ctx.open_orders() and self.ctx.portfolio.position(trade.instrument) == 0:
            self.ctx.target(trade.instrument, 10, "enter", ratio=float("nan"),
                            spread=float("inf"))


def test_audit_and_explain_json_are_strict_json_with_numbers_json_cannot_spell_as_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = make_session(strategy={"use": "tests.test_audit_reading:NanEvidence"})
    engine = Engine(session, tmp_path / "j.arrow")
    engine.run()
    engine.close()
    out = _out(capsys, "audit", str(tmp_path / "j.arrow"), "--kind", "signal", "--json")

    def refuse(word: str) -> None:
        raise ValueError(f"not strict JSON: {word}")

    lines = [json.loads(line, parse_constant=refuse) for line in out.splitlines()]
    assert lines and lines[0]["details"] == {"ratio": "NaN", "spread": "Infinity"}
    # explain --json gives the chain's records as audit --json does: strict JSON too
    chain = json.loads(_out(capsys, "explain", str(tmp_path / "j.arrow"), "1", "--json"),
                       parse_constant=refuse)
    signal = next(r for r in chain["records"] if r["kind"] == "signal")
    assert signal == lines[0]
