"""A run folder as one unit: its paths, a staging folder beside it, and a commit that is all or nothing."""

import os
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from bilinear_helpers import make_config
from bilinear_helpers.training import RunError, RunLayout
from bilinear_helpers.training import run_folder as run_folder_module
from bilinear_helpers.training.run_folder import commit, discard, recover, start_staging

from ..conftest import dead_pid

RUN_NAME = "tiny_0123abcd"


def write_run(layout: RunLayout, content: str, summary: bool = True) -> RunLayout:
    """A complete run (summary last) whose every file holds `content`; `summary=False`: one cut short."""
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    for path in (layout.metrics_path, layout.best_checkpoint_path, layout.latest_checkpoint_path):
        path.write_text(content)
    if summary:
        layout.summary_path.write_text(f'{{"run_name": "{RUN_NAME}", "content": "{content}"}}')
    return layout


def contents(layout: RunLayout) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(layout.run_dir.iterdir())}


@pytest.fixture
def final(tmp_path) -> RunLayout:
    return RunLayout(tmp_path / "runs" / RUN_NAME)


def test_the_paths_of_a_run_are_explicit_fields(tmp_path):
    layout = RunLayout(tmp_path / "r")
    assert layout.metrics_path == tmp_path / "r" / "metrics.csv"
    assert layout.best_checkpoint_path == tmp_path / "r" / "best.pt"
    assert layout.latest_checkpoint_path == tmp_path / "r" / "latest.pt"
    assert layout.summary_path == tmp_path / "r" / "summary.json"
    assert RunLayout(str(tmp_path / "r")) == layout and isinstance(RunLayout(str(tmp_path)).run_dir, Path)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'run_dir'"):
        layout.run_dir = tmp_path  # frozen: the paths cannot drift apart


def test_a_config_names_its_folder_under_runs(isolated_data, tmp_path):
    cfg = make_config("mnist_baseline", steps=10)
    assert RunLayout.for_config(cfg).run_dir == isolated_data.resolve() / "runs" / cfg.run_name
    elsewhere = cfg.replace(data_root=str(tmp_path / "other"))
    assert RunLayout.for_config(elsewhere).run_dir == (tmp_path / "other" / "runs" / cfg.run_name).resolve()


def test_a_run_is_complete_with_its_summary_and_best_checkpoint(final):
    assert not final.is_complete()
    write_run(final, "x", summary=False)
    assert not final.is_complete()
    final.summary_path.write_text("{}")
    assert final.is_complete()
    final.best_checkpoint_path.unlink()
    assert not final.is_complete()


@pytest.mark.parametrize(("text", "problem"), [("", "is unreadable"), ("{", "is unreadable"),
                                               ("[]", "does not describe run"),
                                               ('{"run_name": "another_run"}', "does not describe run tiny_0123abcd")])
def test_an_unreadable_summary_is_a_run_error(final, text, problem):
    write_run(final, "x")
    assert final.read_summary()["content"] == "x"
    final.summary_path.write_text(text)
    with pytest.raises(RunError, match=rf"summary.json {problem}.*delete .*tiny_0123abcd/ or pass retrain=True"):
        final.read_summary()


def test_staging_is_a_hidden_folder_beside_the_run(final):
    staging = start_staging(final)
    assert staging.run_dir.parent == final.run_dir.parent and staging.run_dir.is_dir()
    name = staging.run_dir.name
    assert name.startswith(f".{final.run_dir.name}.{os.getpid()}.") and name.endswith(".staging")
    assert start_staging(final).run_dir != staging.run_dir  # each attempt its own folder
    assert not final.run_dir.exists()


def test_staging_removes_the_leftovers_of_dead_processes_only(final):
    parent = final.run_dir.parent
    parent.mkdir(parents=True)
    dead = parent / f".{final.run_dir.name}.{dead_pid()}.deadbeef.staging"
    alive = parent / f".{final.run_dir.name}.{os.getpid()}.cafecafe.staging"
    other_run = parent / f".other_run.{dead_pid()}.deadbeef.staging"
    for folder in (dead, alive, other_run):
        folder.mkdir()
    staging = start_staging(final)
    assert sorted(p.name for p in parent.iterdir()) == sorted([alive.name, other_run.name, staging.run_dir.name])


def test_commit_moves_the_staging_folder_into_place(final):
    staging = write_run(start_staging(final), "new")
    assert commit(staging, final) == final
    assert contents(final)["best.pt"] == "new" and final.read_summary()["content"] == "new"
    assert [p.name for p in final.run_dir.parent.iterdir()] == [final.run_dir.name]  # no staging left


def test_commit_replaces_an_older_run_whole(final):
    write_run(final, "old")
    (final.run_dir / "extra_from_old_run.txt").write_text("old")
    staging = write_run(start_staging(final), "new")
    staging.latest_checkpoint_path.unlink()
    commit(staging, final)
    assert set(contents(final)) == {"best.pt", "metrics.csv", "summary.json"}  # nothing of the old run
    assert contents(final)["best.pt"] == contents(final)["metrics.csv"] == "new"
    assert [p.name for p in final.run_dir.parent.iterdir()] == [final.run_dir.name]  # no retired run left


def test_a_commit_that_dies_between_its_renames_is_recovered_whole(final, monkeypatch):
    write_run(final, "old")
    staging = write_run(start_staging(final), "new")
    real_rename = os.rename

    def die_moving_in(source, target):
        if Path(source) == staging.run_dir:
            raise KeyboardInterrupt("killed between the renames")
        real_rename(source, target)

    monkeypatch.setattr(run_folder_module.os, "rename", die_moving_in)
    with pytest.raises(KeyboardInterrupt, match="killed between the renames"):
        commit(staging, final)
    monkeypatch.setattr(run_folder_module.os, "rename", real_rename)
    assert not final.run_dir.exists()  # the old run is retired, the new one never moved in
    recover(final)
    assert final.read_summary()["content"] == "old" and contents(final)["best.pt"] == "old"
    discard(staging)
    assert [p.name for p in final.run_dir.parent.iterdir()] == [final.run_dir.name]


def test_a_commit_that_cannot_move_in_keeps_the_old_run(final):
    write_run(final, "old")
    staging = start_staging(final)
    staging.run_dir.rmdir()  # the staging folder is gone: nothing can move in
    with pytest.raises(RunError, match=r"could not move .*\.staging into place after 3 attempts"):
        commit(staging, final, attempts=3)
    assert final.read_summary()["content"] == "old"  # the last good run is never lost
    assert [p.name for p in final.run_dir.parent.iterdir()] == [final.run_dir.name]


def test_recover_needs_a_complete_retired_run_and_no_run_in_place(final):
    retired = final.run_dir.with_name(f".{final.run_dir.name}.1.cafe.retired")
    write_run(RunLayout(retired), "old", summary=False)
    recover(final)
    assert not final.run_dir.exists() and retired.exists()  # a retired folder without its summary stays put
    RunLayout(retired).summary_path.write_text("{}")
    write_run(final, "current")
    recover(final)
    assert contents(final)["best.pt"] == "current" and retired.exists()  # a run in place is never replaced
    discard(final)
    recover(final)
    assert contents(final)["best.pt"] == "old" and not retired.exists()


def test_discard_removes_the_staging_folder(final):
    staging = write_run(start_staging(final), "failed")
    discard(staging)
    assert not staging.run_dir.exists() and list(final.run_dir.parent.iterdir()) == []
    discard(staging)  # a second discard is harmless
