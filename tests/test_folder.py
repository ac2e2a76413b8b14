"""SPEC §1: which files are prospects, ids, and a folder that is partly broken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mdfollow.core.errors import MdfollowError
from mdfollow.store.cache import load_cached_folder
from mdfollow.store.folder import find_root, load_folder, resolve
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
    assert set(problems) == {"broken.md", "latin1.md", "dangling.md", "loop"}
    assert problems["dangling.md"].message.startswith("cannot read")
    assert problems["loop"].message.startswith("symlink loop")


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
