"""SPEC §1: which files are prospects, ids, and a folder that is partly broken."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mdfollow.core.errors import MdfollowError
from mdfollow.store.cache import load_cached_folder
from mdfollow.store.folder import find_root, load_folder, load_for, resolve
from tests.conftest import WriteFile

PROSPECT = "---\nname: {name}\n---\n"


def names(root: Path) -> list[str]:
    return sorted(p.id for p in load_folder(root).prospects)


def test_every_md_with_front_matter_below_the_root(folder: Path, write: WriteFile) -> None:
    write("a.md", PROSPECT.format(name="A"))
    write("deep/er/b.md", PROSPECT.format(name="B"))
    write("archive/c.md", PROSPECT.format(name="C"))
    write("README.md", "# Not a prospect\n")
    write("notes.md", "Some notes\n---\n")
    write("binary.md", b"\xff\xfe not text")
    write("d.txt", PROSPECT.format(name="D"))
    assert names(folder) == ["a", "b", "c"]
    assert load_folder(folder).problems == ()


def test_hidden_underscore_backup_and_excluded_files_are_skipped(folder: Path, write: WriteFile) -> None:
    (folder / "mdfollow.toml").write_text('exclude = ["templates/*", "draft-*.md"]\n')
    for name in [
        ".hidden.md",
        ".obsidian/x.md",
        "_template.md",
        "_private/y.md",
        "z.md~",
        "#z.md#",
        ".#z.md",
        "templates/t.md",
        "draft-1.md",
        "sub/draft-2.md",
    ]:
        write(name, PROSPECT.format(name="skipped"))
    write("z.md", PROSPECT.format(name="Z"))
    assert names(folder) == ["z"]


def test_duplicate_ids_are_both_skipped_with_an_error(folder: Path, write: WriteFile) -> None:
    write("jane.md", PROSPECT.format(name="Jane 1"))
    write("archive/jane.md", PROSPECT.format(name="Jane 2"))
    write("bob.md", PROSPECT.format(name="Bob"))
    loaded = load_folder(folder)
    assert [p.id for p in loaded.prospects] == ["bob"]
    messages = sorted(str(p) for p in loaded.errors)
    assert messages == [
        f"{folder}/archive/jane.md:1: duplicate id 'jane' (also {folder}/jane.md): skipped",
        f"{folder}/jane.md:1: duplicate id 'jane' (also {folder}/archive/jane.md): skipped",
    ]


def test_bad_files_are_reported_and_the_rest_still_loads(folder: Path, write: WriteFile) -> None:
    write("good.md", PROSPECT.format(name="Good"))
    write("broken.md", "---\nname: [oops\n---\n")
    write("latin1.md", b"---\nname: Jos\xe9\n---\n")
    (folder / "dir.md").mkdir()
    os.symlink("missing-target.md", folder / "dangling.md")
    (folder / "a" / "b").mkdir(parents=True)
    os.symlink("..", folder / "a" / "b" / "loop")
    loaded = load_folder(folder)
    assert [p.id for p in loaded.prospects] == ["good"]
    problems = {p.path.name: p for p in loaded.problems}
    assert set(problems) == {"broken.md", "latin1.md", "dangling.md"}  # the loop is not followed
    assert problems["dangling.md"].message.startswith("cannot read")


def test_root_is_found_upwards_like_git(folder: Path, write: WriteFile) -> None:
    inner = folder / "a" / "b"
    inner.mkdir(parents=True)
    root = find_root(inner)
    assert (inner / root).resolve() == folder.resolve()
    assert root == Path("../..")
    assert find_root(inner, explicit=folder) == folder
    with pytest.raises(MdfollowError):
        find_root(inner, explicit=folder / "nope")


def test_without_a_config_the_start_folder_is_the_root(tmp_path: Path) -> None:
    assert find_root(tmp_path) == tmp_path


def test_resolve_by_id_path_and_unique_part(folder: Path, write: WriteFile) -> None:
    write("jane-doe.md", "---\nname: Jane Doe\ncompany: Acme\nemail: jd@acme.example\n---\n")
    write("john-roe.md", "---\nname: John Roe\ncompany: Acme\n---\n")
    loaded = load_folder(folder)
    assert resolve(loaded, "jane-doe").id == "jane-doe"
    assert resolve(loaded, str(folder / "john-roe.md")).id == "john-roe"
    assert resolve(loaded, "JD@ACME").id == "jane-doe"
    assert resolve(loaded, "roe").id == "john-roe"
    with pytest.raises(MdfollowError, match="'acme' matches 2 prospects: jane-doe"):
        resolve(loaded, "acme")
    with pytest.raises(MdfollowError, match="no prospect matches 'zed'"):
        resolve(loaded, "zed")


def test_the_cache_never_serves_a_stale_file(folder: Path, write: WriteFile) -> None:
    path = write("a.md", PROSPECT.format(name="Before"))
    assert load_cached_folder(folder).prospects[0].name == "Before"
    assert load_cached_folder(folder).prospects[0].name == "Before"
    path.write_text(PROSPECT.format(name="Afte"))  # different size, same second
    assert load_cached_folder(folder).prospects[0].name == "Afte"
    os.replace(write("tmp.txt", PROSPECT.format(name="Swap")), path)
    assert load_cached_folder(folder).prospects[0].name == "Swap"
    path.unlink()
    assert load_cached_folder(folder).prospects == ()


def test_a_corrupt_cache_is_ignored(folder: Path, write: WriteFile) -> None:
    from mdfollow.store.cache import cache_path

    write("a.md", PROSPECT.format(name="A"))
    load_cached_folder(folder)
    cache_path(folder).write_bytes(b"garbage")
    assert [p.name for p in load_cached_folder(folder).prospects] == ["A"]


def test_references_ignore_case_and_accents_and_prefer_whole_names(folder: Path, write: WriteFile) -> None:
    write("dan.md", "---\nname: Dan\n---\n")
    write("dana.md", "---\nname: Dana Scully\n---\n")
    write("eva.md", "---\nname: Eva Novák\n---\n")
    loaded = load_folder(folder)
    assert resolve(loaded, "DAN").id == "dan"
    assert resolve(loaded, "dana scully").id == "dana"
    assert resolve(loaded, "eva novak").id == "eva"
    with pytest.raises(MdfollowError, match="empty"):
        resolve(loaded, " ")


def test_a_link_to_a_prospect_is_not_a_second_prospect(folder: Path, write: WriteFile) -> None:
    write("zed.md", "---\nname: Zed\n---\n")
    os.symlink("zed.md", folder / "a-link.md")
    loaded = load_folder(folder)
    assert [p.id for p in loaded.prospects] == ["zed"]
    [problem] = loaded.problems
    assert (problem.path.name, problem.message) == ("a-link.md", f"same file as {folder}/zed.md: skipped")


def test_front_matter_after_a_blank_line_is_a_warning(folder: Path, write: WriteFile) -> None:
    write("late.md", b"\n---\nname: Late\n---\n")
    loaded = load_folder(folder)
    assert loaded.prospects == ()
    assert [(p.line, p.severity) for p in loaded.problems] == [(1, "warning")]


def test_a_cache_others_may_write_is_not_trusted(folder: Path, write: WriteFile) -> None:
    from mdfollow.store.cache import cache_path

    write("a.md", PROSPECT.format(name="A"))
    load_cached_folder(folder)
    path = cache_path(folder)
    assert path.stat().st_mode & 0o022 == 0
    path.chmod(0o666)
    path.write_bytes(b"\x80\x04N.")  # a pickle of None: would be used if trusted
    assert [p.name for p in load_cached_folder(folder).prospects] == ["A"]
    assert path.stat().st_size > 10  # rewritten by this run


def test_a_subfolder_with_its_own_config_is_not_read(folder: Path, write: WriteFile) -> None:
    write("outer.md", PROSPECT.format(name="Outer"))
    write("team/inner.md", PROSPECT.format(name="Inner"))
    write("team/mdfollow.toml", "")
    assert names(folder) == ["outer"]
    assert names(folder / "team") == ["inner"]


def test_a_link_to_the_filesystem_root_is_not_walked(folder: Path, write: WriteFile, tmp_path: Path) -> None:
    """SPEC §6: the walk stays inside the root; a link out of it is reported, not followed."""
    write("good.md", PROSPECT.format(name="Good"))
    write("inside/real.md", PROSPECT.format(name="Real"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "stranger.md").write_text(PROSPECT.format(name="Stranger"))
    os.symlink("/", folder / "everything")
    os.symlink(outside, folder / "elsewhere")
    os.symlink("inside", folder / "shortcut")  # inside the root: its files are read where they are
    loaded = load_folder(folder)
    assert sorted(p.id for p in loaded.prospects) == ["good", "real"]
    assert sorted((p.path.name, p.severity, p.message) for p in loaded.problems) == [
        ("elsewhere", "warning", "link to a folder outside the folder: not followed"),
        ("everything", "warning", "link to a folder outside the folder: not followed"),
    ]


def test_nesting_a_thousand_folders_deep(folder: Path) -> None:
    deep = folder
    for _ in range(1000):
        deep = deep / "d"
        deep.mkdir()
    (deep / "bottom.md").write_text(PROSPECT.format(name="Bottom"))
    try:
        loaded = load_folder(folder)
        assert [p.id for p in loaded.prospects] == ["bottom"]
        assert loaded.problems == ()
    finally:  # shutil.rmtree recurses: remove the levels one by one, deepest first
        (deep / "bottom.md").unlink()
        while deep != folder:
            deep.rmdir()
            deep = deep.parent


def test_folders_of_other_projects_are_not_entered(folder: Path, write: WriteFile) -> None:
    """A virtualenv, node_modules, another git work tree or submodule, __pycache__: never prospects."""
    write("mine.md", PROSPECT.format(name="Mine"))
    write("venv/pyvenv.cfg", "home = /usr/bin\n")
    write("venv/lib/site-packages/pkg/README.md", PROSPECT.format(name="Package"))
    write("web/node_modules/left-pad/readme.md", PROSPECT.format(name="Left Pad"))
    write("vendor/tool/.git/HEAD", "ref: refs/heads/main\n")
    write("vendor/tool/notes.md", PROSPECT.format(name="Tool"))
    write("vendor/submodule/.git", "gitdir: ../../.git/modules/submodule\n")
    write("vendor/submodule/doc.md", PROSPECT.format(name="Submodule"))
    write("src/__pycache__/cached.md", PROSPECT.format(name="Cached"))
    write("team/ours.md", PROSPECT.format(name="Ours"))
    loaded = load_folder(folder)
    assert sorted(p.id for p in loaded.prospects) == ["mine", "ours"]
    assert loaded.problems == ()


def test_an_unreadable_subfolder_is_a_problem(
    folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root no mode bit stops a read, so the kernel's refusal is played here: listing the
    folder and looking up anything in it fail with EACCES, as they do for a mode 000 folder."""
    write("good.md", PROSPECT.format(name="Good"))
    write("locked/secret.md", PROSPECT.format(name="Secret"))
    real_scandir, real_stat = os.scandir, os.stat

    def refused(path: object) -> bool:
        return "/locked" in os.fsdecode(path)  # type: ignore[arg-type]

    def scandir(path: str) -> object:
        if refused(path):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    def lookup(path: str, *args: object, **options: object) -> os.stat_result:
        if refused(path) and os.fsdecode(path).rstrip("/").rsplit("/", 1)[-1] != "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_stat(path, *args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", lookup)
    loaded = load_folder(folder)
    assert [p.id for p in loaded.prospects] == ["good"]
    assert [str(p) for p in loaded.problems] == [f"{folder}/locked:1: cannot read folder: Permission denied"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_a_folder_without_read_permission_is_a_problem(folder: Path, write: WriteFile) -> None:
    write("good.md", PROSPECT.format(name="Good"))
    write("locked/secret.md", PROSPECT.format(name="Secret"))
    (folder / "locked").chmod(0)
    try:
        loaded = load_folder(folder)
    finally:
        (folder / "locked").chmod(0o755)
    assert [p.id for p in loaded.prospects] == ["good"]
    assert [p.message for p in loaded.problems] == ["cannot read folder: Permission denied"]


def run_mdfollow(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mdfollow", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "MDFOLLOW_NO_CACHE": "1"},
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_dir_proc_is_walked_without_a_traceback() -> None:
    result = run_mdfollow("--dir", "/proc", "list")
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1].startswith("0 prospects")


def test_a_fifo_config_is_refused_not_waited_for(folder: Path, write: WriteFile) -> None:
    write("good.md", PROSPECT.format(name="Good"))
    (folder / "mdfollow.toml").unlink()
    os.mkfifo(folder / "mdfollow.toml")
    write("team/x.md", PROSPECT.format(name="X"))
    os.mkfifo(folder / "team" / "mdfollow.toml")  # a subfolder with a config: another root
    for command in (["due"], ["ics"], ["check"]):
        result = run_mdfollow("--dir", str(folder), *command, timeout=15)
        assert result.returncode == 1
        assert result.stderr == (
            f"mdfollow: {folder}/mdfollow.toml:1: not a regular file (a FIFO, device or folder): cannot be read\n"
        )
    (folder / "mdfollow.toml").unlink()
    result = run_mdfollow("--dir", str(folder), "list", timeout=15)
    assert (result.returncode, result.stdout.splitlines()[-1]) == (0, "1 prospect")


def test_a_file_with_several_hard_links_is_listed_once(
    folder: Path, write: WriteFile, tmp_path: Path
) -> None:
    original = write("ann.md", PROSPECT.format(name="Ann"))
    os.link(original, folder / "ann-copy.md")
    os.link(original, folder / "sub-ann.md")
    lone = write("bob.md", PROSPECT.format(name="Bob"))
    os.link(lone, tmp_path / "bob-outside.md")
    loaded = load_folder(folder)  # under its first name in the walk's (name) order
    assert sorted(p.id for p in loaded.prospects) == ["ann-copy", "bob"]
    assert sorted((p.path.name, p.severity, p.message) for p in loaded.problems) == [
        (
            "ann-copy.md",
            "warning",
            f"file has 3 hard links (also {folder}/ann.md, {folder}/sub-ann.md): listed once",
        ),
        ("bob.md", "warning", "file has 2 hard links (also 1 outside the folder): listed once"),
    ]


def test_the_cache_leaves_no_temporary_file(
    folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mdfollow.store import cache

    write("a.md", PROSPECT.format(name="A"))
    load_cached_folder(folder)
    cache_folder = cache.cache_dir()
    killed = cache_folder / "tmpk1ll3d.tmp"  # what a killed run of an older version left
    killed.write_bytes(b"half a cache")
    old = killed.stat().st_mtime - 3600
    os.utime(killed, (old, old))
    fresh = cache_folder / "x.cache.123.tmp"  # another run writing right now: not touched
    fresh.write_bytes(b"")
    write("b.md", PROSPECT.format(name="B"))
    load_cached_folder(folder)
    assert [p.name for p in cache_folder.iterdir() if p.suffix == ".tmp"] == [fresh.name]

    def interrupted(temporary: object, path: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "JOURNAL_MAX", 0)  # the whole cache, the biggest write
    monkeypatch.setattr(os, "replace", interrupted)
    write("c.md", PROSPECT.format(name="C"))
    with pytest.raises(KeyboardInterrupt):
        load_cached_folder(folder)
    assert [p.name for p in cache_folder.iterdir() if p.suffix == ".tmp"] == [fresh.name]


def test_a_cache_of_another_folder_or_version_is_ignored(
    folder: Path, write: WriteFile, tmp_path: Path
) -> None:
    from mdfollow.store.cache import cache_path

    other = tmp_path / "other"
    other.mkdir()
    (other / "intruder.md").write_text(PROSPECT.format(name="Intruder"))
    load_cached_folder(other)
    write("a.md", PROSPECT.format(name="A"))
    cache_path(folder).parent.mkdir(parents=True, exist_ok=True)
    cache_path(folder).write_bytes(cache_path(other).read_bytes())
    cache_path(folder).chmod(0o600)
    assert [p.name for p in load_cached_folder(folder).prospects] == ["A"]


def test_a_cached_prospect_is_the_parsed_one(folder: Path, write: WriteFile) -> None:
    """Every field survives the cache (the record format knows every field of the model)."""
    from mdfollow.store import record

    write(
        "full.md",
        """\
        ---
        name: Jane Doe
        company: Acme
        email: [jane@acme.example, j@acme.example]
        phone: "+44 20 7946 0001"
        status: won
        cadence: customer
        next: 2026-12-01 14:30
        created: 2026-11-01
        closed: 2026-11-20
        tags: [warm, quote]
        source: Leeds
        owner: sam
        custom: {nested: [1, 2.5, true, null]}
        ---
        ## Touches
        - 2026-11-02 email: sent quote
        - 2026-11-09 09:40 call in: called back
          about the price
        - 2026-11-10 note: asked for samples
        """,
    )
    assert record.SUPPORTED
    [parsed] = load_folder(folder).prospects
    load_cached_folder(folder)
    [cached] = load_cached_folder(folder).prospects
    assert cached == parsed
    assert (cached.front_matter, cached.key_lines) == (parsed.front_matter, parsed.key_lines)
    assert cached.notes == parsed.notes and cached.notes[0].note == "asked for samples"


def test_a_cold_load_in_a_process_pool_gives_the_serial_result(
    folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mdfollow.store import folder as folder_module

    for index in range(60):
        write(
            f"p{index:02d}.md", PROSPECT.format(name=f"P {index}") + "## Touches\n- 2026-11-02 call:\n- bad\n"
        )
    write("p99.md", "---\nname: [broken\n---\n")
    serial = load_folder(folder)
    monkeypatch.setattr(folder_module, "PARALLEL_MIN", 10)
    monkeypatch.setattr(folder_module, "_CHUNK", 8)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # pytest may run threads of its own
    pools: list[int] = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, workers: int, **options: Any) -> None:
            pools.append(workers)
            super().__init__(workers, **options)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountedPool)
    pooled = load_folder(folder)
    assert pools == [2]
    assert pooled.prospects == serial.prospects
    assert pooled.problems == serial.problems


def test_an_exact_id_or_path_reads_only_that_file(
    folder: Path, write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`log`, `mark`, `snooze` and `show` with an exact reference need no folder load."""
    from mdfollow.store import folder as folder_module

    write("jane-doe.md", "---\nname: Jane Doe\ncompany: Acme\n---\n")
    write("team/john-roe.md", "---\nname: John Roe\n---\n")
    write("broken.md", "---\nname: [Broken\n---\n")
    write("dup.md", PROSPECT.format(name="Dup 1"))
    write("archive/dup.md", PROSPECT.format(name="Dup 2"))
    write("readme.md", "# not a prospect\n")
    whole = load_folder(folder)
    read: list[str] = []
    real = folder_module.load_prospect
    monkeypatch.setattr(folder_module, "load_prospect", lambda path: read.append(path.name) or real(path))
    for reference, name in [
        ("jane-doe", "jane-doe.md"),
        ("JANE-DOE", "jane-doe.md"),
        (str(folder / "jane-doe.md"), "jane-doe.md"),
        ("john-roe", "john-roe.md"),
        (str(folder / "team" / "john-roe.md"), "john-roe.md"),
    ]:
        read.clear()
        loaded = load_for(folder, reference)
        assert loaded is not None and read == [name], reference
        assert resolve(loaded, reference) == resolve(whole, reference)
    broken = load_for(folder, "broken")
    assert broken is not None
    with pytest.raises(
        MdfollowError, match=r"broken\.md has errors: line \d+: broken YAML.*\(fix the file first\)"
    ):
        resolve(broken, "broken")
    for reference in ("jane", "Jane Doe", "acme", "dup", "readme", str(tmp_path / "elsewhere.md")):
        assert load_for(folder, reference) is None, reference


def test_edits_go_to_a_journal_that_only_its_own_cache_file_takes(
    folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit writes the changed entries beside the cache, not the whole cache; answers stay
    right through edits, removals, a full rewrite, and a journal beside another cache file."""
    from mdfollow.store import cache

    monkeypatch.setattr(cache, "JOURNAL_MAX", 3)
    real_write = write

    def write(name: str, text: str) -> Path:  # saved a while ago: not re-read as "racy"
        path = real_write(name, text)
        past = time.time() - 10
        os.utime(path, (past, past))
        return path

    for name in "abcd":
        write(f"{name}.md", PROSPECT.format(name=name.upper()))
    load_cached_folder(folder)
    whole = cache.cache_path(folder)
    written = whole.stat()
    write("a.md", PROSPECT.format(name="A2"))
    (folder / "b.md").unlink()
    assert sorted(p.name for p in load_cached_folder(folder).prospects) == ["A2", "C", "D"]
    assert cache.journal_path(folder).exists()
    assert (whole.stat().st_ino, whole.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert sorted(p.name for p in load_cached_folder(folder).prospects) == ["A2", "C", "D"]
    assert sorted(cache.read_entries(folder)) == sorted(str(folder / f"{name}.md") for name in "acd")
    write("c.md", PROSPECT.format(name="C2"))
    write("e.md", PROSPECT.format(name="E"))  # the journal would hold 4: the whole cache is written
    assert sorted(p.name for p in load_cached_folder(folder).prospects) == ["A2", "C2", "D", "E"]
    assert not cache.journal_path(folder).exists()
    assert whole.stat().st_ino != written.st_ino
    write("d.md", PROSPECT.format(name="D2"))
    load_cached_folder(folder)
    journal = cache.journal_path(folder).read_bytes()  # a journal for the cache file as it is now
    for name in "dfgh":
        write(f"{name}.md", PROSPECT.format(name=f"{name.upper()}3"))
    load_cached_folder(folder)  # too many for the journal: a new whole cache
    cache.journal_path(folder).write_bytes(journal)  # the old journal back, beside the new file
    cache.journal_path(folder).chmod(0o600)
    entries = cache.read_entries(folder)
    assert [entries[str(folder / f"{name}.md")].prospect for name in "dh"] == [
        p for p in load_folder(folder).prospects if p.id in "dh"
    ]
