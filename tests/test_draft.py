"""`mdfollow draft` (SPEC §9) on real files: golden drafts, the Maildir target read back with
`mailbox`, idempotence, template errors, the sandbox, header injection, and no SMTP anywhere."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mdfollow
from tests.conftest import RunCli, WriteFile

CONFIG = """\
[mail]
me = ["sam@seller.example"]

[drafts]
to = "Drafts"
signature = "Sam Seller, Acme"

[cadences.default]
gaps = ["2d email", "1w email:quote-check", "1w call"]
"""
FIRST = """\
Subject: Good to meet you, {{ prospect.first_name }}

Hi {{ prospect.first_name }},

Thanks for the {{ last.channel }} on {{ last.date }} ({{ last.note }}).
This is touch #{{ touch }}{% if prospect.company %} for {{ prospect.company }}{% endif %}.

{{ signature }}
"""
QUOTE = """\
Subject: Checking in about the quote

Hi {{ prospect.first_name }}, any questions about {{ last.note }}?
-- {{ me }}
"""


def prospect(name: str, *touches: str, email: str | None = None, extra: str = "") -> str:
    mail = f"email: {email}\n" if email else ""
    log = "".join(f"- {touch}\n" for touch in touches)
    return f"---\nname: {name}\n{mail}{extra}---\n## Touches\n{log}"


@pytest.fixture
def drafts(folder: Path, write: WriteFile) -> Path:
    """A folder with two templates, a Maildir Drafts folder, and prospects due on 2026-11-30."""
    write("mdfollow.toml", CONFIG)
    write("_templates/email-2.txt", FIRST)
    write("_templates/quote-check.txt", QUOTE)
    for sub in ("cur", "new", "tmp"):
        (folder / "Drafts" / sub).mkdir(parents=True)
    extra = "company: Acme Corp\n"
    write(
        "jane.md",
        prospect("Jane Doe", "2026-11-20 meeting: took her card", email="jane@acme.example", extra=extra),
    )
    write(
        "bob.md",
        prospect(
            "Bob Smith", "2026-11-20 meeting: met", "2026-11-23 email: sent quote #7", email="bob@b.example"
        ),
    )
    write("nomail.md", prospect("No Mail", "2026-11-25 meeting: met"))
    write(
        "caller.md",
        prospect(
            "Cal Ler",
            "2026-11-10 meeting: x",
            "2026-11-12 email: y",
            "2026-11-19 email: z",
            email="c@c.example",
        ),
    )
    return folder / "Drafts"


def normalised(message: str) -> str:
    """A printed draft with its two per-run headers replaced by placeholders."""
    message = re.sub(r"^Date: .*$", "Date: <date>", message, flags=re.MULTILINE)
    return re.sub(r"^Message-ID: .*$", "Message-ID: <id>", message, flags=re.MULTILINE)


def stored(box: Path) -> list[mailbox.MaildirMessage]:
    return [box_message for _, box_message in sorted(mailbox.Maildir(box, create=False).items())]


def test_a_printed_draft_is_the_golden_rfc5322_message(drafts: Path, run: RunCli) -> None:
    result = run("draft", "jane", "--print")
    assert result.exit_code == 0, result
    assert normalised(result.stdout) == textwrap.dedent("""\
        From: sam@seller.example
        To: Jane Doe <jane@acme.example>
        Subject: Good to meet you, Jane
        Date: <date>
        Message-ID: <id>
        X-Mdfollow-Draft: jane-2
        Content-Type: text/plain; charset="utf-8"
        Content-Transfer-Encoding: 7bit
        MIME-Version: 1.0

        Hi Jane,

        Thanks for the meeting on 2026-11-20 (took her card).
        This is touch #2 for Acme Corp.

        Sam Seller, Acme

        """)
    message = email.message_from_string(result.stdout, policy=email.policy.default)
    assert message["Date"].datetime.tzinfo is not None
    assert re.fullmatch(r"<[^<>@\s]+@seller\.example>", str(message["Message-ID"]))
    assert list(drafts.rglob("*.*")) == []  # --print stores nothing


def test_non_ascii_names_and_bodies_are_7_bit_rfc2047_and_quoted_printable(
    drafts: Path, write: WriteFile, run: RunCli
) -> None:
    write("jose.md", prospect("José Müller", "2026-11-20 meeting: café", email="jose@acme.example"))
    result = run("draft", "jose", "--print")
    assert result.exit_code == 0, result
    assert result.stdout.isascii()
    assert "To: =?utf-8?q?Jos=C3=A9_M=C3=BCller?= <jose@acme.example>" in result.stdout
    assert "Subject: Good to meet you, =?utf-8?q?Jos=C3=A9?=" in result.stdout
    message = email.message_from_string(result.stdout, policy=email.policy.default)
    assert message["Subject"] == "Good to meet you, José"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message.get_content().startswith("Hi José,\n\nThanks for the meeting on 2026-11-20 (café).")


def test_draft_due_writes_each_email_follow_up_to_the_maildir_once(drafts: Path, run: RunCli) -> None:
    first = run("draft", "--due")
    assert first.exit_code == 0, first
    assert first.stdout.splitlines() == [
        "drafted jane (touch #2): Good to meet you, Jane",
        "drafted bob (touch #3): Checking in about the quote",
        "2 drafts written to Drafts; 1 skipped",
    ]
    assert first.stderr.splitlines() == ["nomail: no email address: skipped"]
    messages = stored(drafts)
    assert len(messages) == 2
    assert {m.get_subdir() for m in messages} == {"cur"} and {m.get_flags() for m in messages} == {"D"}
    assert list((drafts / "tmp").iterdir()) == [] and list((drafts / "new").iterdir()) == []
    by_marker = {m["X-Mdfollow-Draft"]: m for m in messages}
    assert set(by_marker) == {"bob-3", "jane-2"}
    bob = by_marker["bob-3"]
    assert (bob["From"], bob["To"], bob["Subject"]) == (
        "sam@seller.example",
        "Bob Smith <bob@b.example>",
        "Checking in about the quote",
    )
    assert bob.get_payload() == "Hi Bob, any questions about sent quote #7?\n-- sam@seller.example\n"
    files = sorted(p.name for p in (drafts / "cur").iterdir())
    assert all(name.endswith(":2,D") for name in files)

    second = run("draft", "--due")
    assert second.exit_code == 0, second
    assert second.stdout.splitlines() == [
        "jane: already drafted",
        "bob: already drafted",
        "0 drafts written to Drafts; 2 already drafted; 1 skipped",
    ]
    assert sorted(p.name for p in (drafts / "cur").iterdir()) == files
    again = run("draft", "jane")
    assert again.exit_code == 0 and again.stdout.startswith("jane: already drafted\n")
    assert len(stored(drafts)) == 2


def test_a_draft_moved_to_new_by_a_client_still_counts_as_drafted(drafts: Path, run: RunCli) -> None:
    assert run("draft", "jane").exit_code == 0
    [name] = [p.name for p in (drafts / "cur").iterdir()]
    (drafts / "cur" / name).rename(drafts / "new" / name.split(":")[0])
    assert run("draft", "jane").stdout.startswith("jane: already drafted")
    assert len(stored(drafts)) == 1


def test_one_broken_template_fails_the_run_but_the_other_drafts_are_written(
    drafts: Path, write: WriteFile, run: RunCli
) -> None:
    write("_templates/quote-check.txt", "Subject: quote\n\nHi {{ prospect.first_nam }}\n")
    result = run("draft", "--due")
    assert result.exit_code == 1
    assert "_templates/quote-check.txt:3: 'dict object' has no attribute 'first_nam'" in result.stderr
    assert [m["X-Mdfollow-Draft"] for m in stored(drafts)] == ["jane-2"]
    assert result.stdout.splitlines()[-1] == "1 draft written to Drafts; 1 skipped; 1 error"
    due = run("due", "--json")
    assert {item["id"] for item in __import__("json").loads(due.stdout)} >= {"bob", "jane"}


def test_a_prospect_without_email_is_skipped_with_a_message(drafts: Path, run: RunCli) -> None:
    result = run("draft", "nomail")
    assert result.exit_code == 0, result
    assert result.stderr == "nomail: no email address: skipped\n"
    assert stored(drafts) == []


def test_follow_ups_that_are_not_emails_or_have_no_template_get_no_draft(
    drafts: Path, write: WriteFile, run: RunCli
) -> None:
    call = run("draft", "caller")
    assert call.exit_code == 0 and "caller: touch #4 is call, not email: no draft" in call.stderr
    write(
        "dave.md",
        prospect(
            "Dave", "2026-11-10 meeting: x", "2026-11-12 email: y", "2026-11-19 call: z", email="d@d.example"
        ),
    )
    missing = run("draft", "dave")  # touch #4 falls on `then`, the last gap: "1w call"
    assert "touch #4 is call" in missing.stderr
    write("mdfollow.toml", CONFIG.replace('"1w call"', '"1w email"'))
    none = run("draft", "dave")
    assert none.exit_code == 0
    assert "no template for touch #4 (" in none.stderr and "email-4.txt or " in none.stderr
    write("_templates/email.txt", "Subject: any email\n\nHello\n")
    fallback = run("draft", "dave", "--print")
    assert "Subject: any email" in fallback.stdout
    write("_templates/email-4.txt", "Subject: the fourth\n\nHello\n")
    assert "Subject: the fourth" in run("draft", "dave", "--print").stdout
    assert stored(drafts) == []


def test_a_gap_template_wins_over_the_channel_templates(drafts: Path, write: WriteFile, run: RunCli) -> None:
    write("_templates/email-3.txt", "Subject: not this one\n\nx\n")
    write("_templates/email.txt", "Subject: nor this one\n\nx\n")
    assert "Subject: Checking in about the quote" in run("draft", "bob", "--print").stdout


@pytest.mark.parametrize(
    ("template", "line", "message"),
    [
        ("Subject: {{ prospct.name }}\n\nbody\n", 1, "'prospct' is undefined"),
        ("Subject: hi\n\none\ntwo\n{{ nope }}\n", 5, "'nope' is undefined"),
        ("Subject: hi\n\none\n{% if touch %}\nx\n", 4, "Unexpected end of template"),
        ("Subject: hi\n\n{{ prospect.name | nosuchfilter }}\n", 3, "No filter named 'nosuchfilter'"),
        ("Subject: {{ 1 / 0 }}\n\nbody\n", 1, "ZeroDivisionError: division by zero"),
        ("Hello\n\nbody\n", 1, 'the first line must be "Subject: …"'),
        ("Subject: hi\nbody straight away\n", 2, "expected a blank line after the Subject line"),
    ],
)
def test_template_errors_name_the_file_and_line(
    drafts: Path, write: WriteFile, run: RunCli, template: str, line: int, message: str
) -> None:
    write("_templates/email-2.txt", template)
    result = run("draft", "jane", "--print")
    assert result.exit_code == 1
    assert result.stdout == ""
    [error] = result.stderr.splitlines()
    assert error.startswith(f"{drafts.parent / '_templates' / 'email-2.txt'}:{line}: ")
    assert message in error
    checked = run("check")
    assert checked.exit_code == 1
    assert f"_templates/email-2.txt:{line}: " in checked.stdout and message in checked.stdout


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ prospect.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ self._TemplateReference__context }}",
        "{{ range.__self__ }}",
        "{{ 'x' * 10 ** 9 }}",
        "{{ ['x'] * 1000000 }}",
        "{{ 2 ** 100000000 }}",
        "{{ prospect.tags.append('x') }}",
        "{{ prospect.update(name='x') }}",
    ],
)
def test_a_sandbox_escape_is_an_error_never_output(
    drafts: Path, write: WriteFile, run: RunCli, escape: str
) -> None:
    write("_templates/email-2.txt", f"Subject: hi\n\nline\n{escape}\n")
    result = run("draft", "jane", "--print")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{drafts.parent / '_templates' / 'email-2.txt'}:4: ")
    assert "<class" not in result.stderr and "uid=" not in result.stderr
    assert stored(drafts) == []


def test_cr_lf_in_a_name_or_subject_cannot_add_a_header(drafts: Path, write: WriteFile, run: RunCli) -> None:
    write(
        "jane.md",
        prospect(
            '"Jane\\r\\nBcc: evil@attacker.example"', "2026-11-20 meeting: x", email="jane@acme.example"
        ),
    )
    write(
        "_templates/email-2.txt",
        'Subject: hi {{ "\\r\\nBcc: evil2@attacker.example\\r\\n\\r\\nbody" }}\n\nbody\n',
    )
    result = run("draft", "jane")
    assert result.exit_code == 0, result
    [message] = stored(drafts)
    assert message.get_all("Bcc") is None
    assert sorted(message.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "X-Mdfollow-Draft",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )
    assert message["Subject"] == "hi Bcc: evil2@attacker.example body"
    assert "evil@attacker.example" in message["To"] and message["To"].endswith("<jane@acme.example>")


def test_an_address_that_cannot_be_a_header_is_an_error_naming_the_file(
    drafts: Path, write: WriteFile, run: RunCli
) -> None:
    write("jane.md", prospect("Jane", "2026-11-20 meeting: x", email="'jane at acme'"))
    result = run("draft", "jane")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{drafts.parent / 'jane.md'}:3: cannot write a draft to 'jane at acme'")
    assert stored(drafts) == []


def test_the_target_must_be_configured_and_be_a_maildir(drafts: Path, write: WriteFile, run: RunCli) -> None:
    write("mdfollow.toml", CONFIG.replace('to = "Drafts"', 'to = "Nowhere"'))
    result = run("draft", "jane")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"mdfollow: {drafts.parent / 'Nowhere'}: not a Maildir folder (needs cur/, new/ and tmp/)\n"
    )
    assert not (drafts.parent / "Nowhere").exists()
    write("mdfollow.toml", CONFIG.replace('to = "Drafts"\n', ""))
    unset = run("draft", "--due")
    assert unset.exit_code == 1 and "set [drafts] to" in unset.stderr
    write("mdfollow.toml", CONFIG.replace('me = ["sam@seller.example"]', "me = []"))
    no_me = run("draft", "jane")
    assert no_me.exit_code == 1 and "set [mail] me" in no_me.stderr
    assert stored(drafts) == []
    assert run("draft").exit_code == 2 and run("draft", "jane", "--due").exit_code == 2


def test_check_reports_a_gap_naming_a_missing_template(drafts: Path, write: WriteFile, run: RunCli) -> None:
    assert run("check").exit_code == 0
    (drafts.parent / "_templates" / "quote-check.txt").unlink()
    result = run("check")
    assert result.exit_code == 1
    assert (
        f"{drafts.parent / 'mdfollow.toml'}:9: cadences.default.gaps[1]: template 'quote-check' not found "
        f"({drafts.parent / '_templates' / 'quote-check.txt'})"
    ) in result.stdout
    due = run("due")
    assert "Bob Smith" in due.stdout  # the follow-up stays listed


def test_check_renders_templates_with_the_front_matter_keys_the_folder_uses(
    drafts: Path, write: WriteFile, run: RunCli
) -> None:
    write("_templates/product.txt", "Subject: {{ prospect.product }}\n\nHi\n")
    assert run("check").exit_code == 1  # no prospect has a `product`
    write(
        "jane.md",
        prospect("Jane Doe", "2026-11-20 meeting: x", email="jane@acme.example", extra="product: widgets\n"),
    )
    assert run("check").exit_code == 0


def test_the_package_has_no_smtp_code() -> None:
    package = Path(mdfollow.__file__).parent
    offenders = [
        str(path)
        for path in package.rglob("*.py")
        if re.search(r"smtplib|\bSMTP\b|sendmail", path.read_text(encoding="utf-8"), re.IGNORECASE)
    ]
    assert offenders == []


def test_jinja2_is_imported_only_to_render(drafts: Path) -> None:
    code = textwrap.dedent("""\
        import sys
        from typer.testing import CliRunner
        from mdfollow.cli import app
        args = ["--dir", sys.argv[1], "--today", "2026-11-30", *sys.argv[2:]]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        print("jinja2" in sys.modules)
        """)

    def imports_jinja(*args: str) -> bool:
        command = [sys.executable, "-c", code, str(drafts.parent), *args]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return out.strip().splitlines()[-1] == "True"

    assert not imports_jinja("due")
    assert not imports_jinja("list")
    assert imports_jinja("due", "--json")
    for path in (drafts.parent / "_templates").iterdir():
        path.unlink()
    (drafts.parent / "_templates").rmdir()
    assert not imports_jinja("due", "--json")
    assert not imports_jinja("ics")


def test_a_maildir_draft_touches_no_network(
    drafts: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an IMAP target reaches a server: composing (Message-ID included) asks no DNS, opens no socket."""
    import socket

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network used: {args}")

    # socket.gethostname stays: it asks the kernel, not the network, for Maildir's file names.
    for name in ("getfqdn", "gethostbyname", "getaddrinfo", "create_connection"):
        monkeypatch.setattr(socket, name, refused)
    monkeypatch.setattr(socket.socket, "connect", refused)
    result = run("draft", "--due")
    assert result.exit_code == 0, result
    assert len(stored(drafts)) == 2


def test_a_failing_write_leaves_nothing_half_written(
    drafts: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up in the middle of the second draft: the first stays, the second leaves no
    file in tmp/ or cur/, and the run ends in one line naming the folder."""
    real = mailbox.Maildir._dump_message
    calls = []

    def dump(self: mailbox.Maildir, message: object, target: object, mangle_from_: bool = False) -> None:
        calls.append(message)
        if len(calls) == 2:
            target.write(b"From: half a mess")  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")
        real(self, message, target, mangle_from_)

    monkeypatch.setattr(mailbox.Maildir, "_dump_message", dump)
    result = run("draft", "--due")
    assert result.exit_code == 1
    assert result.stdout == "drafted jane (touch #2): Good to meet you, Jane\n"
    assert (
        result.stderr.splitlines()[-1] == f"mdfollow: {drafts}: cannot write a draft: No space left on device"
    )
    assert [m["X-Mdfollow-Draft"] for m in stored(drafts)] == ["jane-2"]
    assert list((drafts / "tmp").iterdir()) == []


def test_draft_due_with_an_owner_drafts_only_that_owners_prospects(
    drafts: Path, folder: Path, run: RunCli
) -> None:
    jane = folder / "jane.md"
    jane.write_text(jane.read_text().replace("company: Acme Corp\n", "company: Acme Corp\nowner: Alice\n"))
    result = run("draft", "--due", "--owner", "alice")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[0] == "drafted jane (touch #2): Good to meet you, Jane"
    assert {m["X-Mdfollow-Draft"] for m in stored(drafts)} == {"jane-2"}


def test_draft_due_drafts_what_the_plan_places_today(drafts: Path, folder: Path, run: RunCli) -> None:
    config = folder / "mdfollow.toml"
    config.write_text(config.read_text() + "\n[plan]\ndaily = 1\n")
    rows = json.loads(run("due", "--json").stdout)
    today = [
        f"{r['id']}-{r['touch']}" for r in rows if r["planned"] == "2026-11-30" and r["channel"] == "email"
    ]
    assert len(today) == 1  # the cap moved the other email follow-up to tomorrow
    result = run("draft", "--due")
    assert result.exit_code == 0, result
    assert {m["X-Mdfollow-Draft"] for m in stored(drafts)} == set(today)
