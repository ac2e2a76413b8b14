"""Parsing import files: vCards through vobject, CSV exports by their headers, encodings, bad records."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdfollow.connect.importer import Contact, decode, plan_import, read_contacts
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Prospect
from mdfollow.store.edit import create_prospect
from mdfollow.store.folder import load_folder

EXAMPLES = Path(__file__).parent.parent / "examples" / "import"


def card(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCARD", *lines, "END:VCARD"]) + "\r\n"


def vcf(text: str) -> bytes:
    return text.encode("utf-8")


def test_vcards_3_and_4_with_unicode() -> None:
    data = vcf(
        card(
            "VERSION:3.0",
            "N:Müller;José;;;",
            "FN:José Müller",
            "ORG:Müller GmbH;Einkauf",
            "TITLE:Buyer",
            "EMAIL;TYPE=INTERNET,WORK:jose@mueller.example",
            "EMAIL;TYPE=HOME:JOSE@mueller.example",
            "TEL;TYPE=CELL:+49 170 5550123",
            "NOTE:Met at the fair\\, hall 7\\nCall after lunch",
        )
        + card(
            "VERSION:4.0", "FN:佐藤 花子", "EMAIL:hanako@sato.example", "TEL;VALUE=uri:tel:+81-90-5550-0199"
        )
    )
    found = read_contacts(Path("cards.vcf"), data)
    assert (found.kind, found.encoding, found.problems) == ("vCard", "UTF-8", ())
    jose, hanako = found.contacts
    assert jose == Contact(
        line=1,
        name="José Müller",
        company="Müller GmbH",
        emails=("jose@mueller.example",),  # the same address in other case is one email
        phones=("+49 170 5550123",),
        details=("Department: Einkauf", "Title: Buyer"),
        notes=("Met at the fair, hall 7\nCall after lunch",),
    )
    assert (hanako.line, hanako.name, hanako.phones) == (12, "佐藤 花子", ("+81-90-5550-0199",))


def test_a_card_with_only_n_and_a_card_in_quoted_printable() -> None:
    data = vcf(
        card("VERSION:3.0", "N:Doe;John;Q.;Dr.;", "EMAIL:john@doe.example")
        + card(
            "VERSION:2.1",
            "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Zo=C3=AB Kraus",
            "TEL;CELL:+43 660 5550101",
        )
    )
    john, zoe = read_contacts(Path("x.vcf"), data).contacts
    assert john.name == "Dr. John Q. Doe"
    assert (zoe.name, zoe.phones) == ("Zoë Kraus", ("+43 660 5550101",))


@pytest.mark.parametrize("version", ["2.1", "3.0", "4.0"])
def test_a_note_with_bare_commas_is_kept_whole(version: str) -> None:
    """Phones often write NOTE with unescaped commas; the whole note is the note."""
    data = vcf(
        card(
            f"VERSION:{version}",
            "FN:Jane Doe",
            "TITLE:Head of Purchasing, EMEA",
            "NOTE:Met at Messe Berlin, wants samples",
            " , and a quote",  # a folded line
            "item1.NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller, Berlin=",
            ", Stand 7\\, Halle 2",
        )
    )
    [contact] = read_contacts(Path("phone.vcf"), data).contacts
    assert contact.notes == (
        "Met at Messe Berlin, wants samples, and a quote",
        "Müller, Berlin, Stand 7, Halle 2",
    )
    assert contact.details == ("Title: Head of Purchasing, EMEA",)


def test_a_malformed_card_is_reported_and_the_others_kept() -> None:
    data = vcf(
        card("VERSION:3.0", "FN:Good One", "EMAIL:one@example.com")
        + card("VERSION:3.0", "FN Broken Line", "EMAIL:broken@example.com")
        + card("VERSION:3.0", "FN:Good Two")
        + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Never Closed\r\n"
    )
    found = read_contacts(Path("cards.vcf"), data)
    assert [c.name for c in found.contacts] == ["Good One", "Good Two"]
    assert [(p.line, str(p)) for p in found.problems] == [
        (6, "cards.vcf:6: malformed vCard: Failed to parse line: FN Broken Line: skipped"),
        (15, "cards.vcf:15: vCard without END:VCARD: skipped"),
    ]


def test_no_name_takes_the_email_and_neither_is_skipped() -> None:
    data = vcf(card("VERSION:3.0", "EMAIL:anon@example.com") + card("VERSION:3.0", "TEL:+1 555 0100"))
    found = read_contacts(Path("cards.vcf"), data)
    assert [c.name for c in found.contacts] == ["anon@example.com"]
    assert [str(p) for p in found.problems] == ["cards.vcf:5: no name and no email: skipped"]


def test_a_vcf_without_cards_is_an_error() -> None:
    with pytest.raises(MdfollowError, match="no vCard in the file"):
        read_contacts(Path("empty.vcf"), b"hello\n")


LINKEDIN = (
    "Notes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses are '
    'missing. You will only see email addresses for connections who have allowed it."\r\n'
    "\r\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
    "Amara,Okafor,https://www.linkedin.com/in/amara,amara@brightpath.example,BrightPath,CTO,14 Oct 2026\r\n"
    'Lukas,Schneider,https://www.linkedin.com/in/lukas,,"Nordwind, GmbH",,02 Oct 2026\r\n'
)


def test_linkedin_export_with_its_preamble() -> None:
    found = read_contacts(Path("Connections.csv"), LINKEDIN.encode())
    assert found.kind == "LinkedIn connections (header on line 4)"
    amara, lukas = found.contacts
    assert amara == Contact(
        line=5,
        name="Amara Okafor",
        company="BrightPath",
        emails=("amara@brightpath.example",),
        details=("URL: https://www.linkedin.com/in/amara", "Position: CTO", "Connected On: 14 Oct 2026"),
    )
    assert (lukas.line, lukas.company, lukas.emails) == (6, "Nordwind, GmbH", ())


@pytest.mark.parametrize(
    "header",
    [
        # Google Contacts since 2021
        "First Name,Middle Name,Last Name,Organization Name,Organization Title,Labels,"
        "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value",
        # the older Google CSV
        "Given Name,Additional Name,Family Name,Organization 1 - Name,Organization 1 - Title,"
        "Group Membership,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value",
    ],
)
def test_google_contacts_both_header_styles(header: str) -> None:
    row = "Ana,María,López,Sol y Mar,CEO,* myContacts,* Work,ana@sol.example ::: ana@home.example,Mobile,+34 600"
    found = read_contacts(Path("contacts.csv"), f"{header}\n{row}\n".encode())
    assert found.kind == "Google Contacts (header on line 1)"
    [ana] = found.contacts
    assert (ana.name, ana.company) == ("Ana María López", "Sol y Mar")
    assert ana.emails == ("ana@sol.example", "ana@home.example")
    assert ana.phones == ("+34 600",)
    assert [d.split(":")[1].strip() for d in ana.details] == ["CEO"]  # labels and types are not notes


def test_google_full_name_column_wins_over_parts() -> None:
    text = "Name,Given Name,Family Name,E-mail 1 - Value\nDr Ana Lopez,Ana,Lopez,ana@x.example\n"
    [ana] = read_contacts(Path("google.csv"), text.encode()).contacts
    assert ana.name == "Dr Ana Lopez"


def test_generic_csv_case_insensitive_semicolons_and_cp1252() -> None:
    text = "NAME;company;E-Mail;Mobile Phone;Notes\nZoë Kraus;Café Crème;zoe@creme.example;+43 1;Owes €40\n"
    data = text.encode("cp1252")
    found = read_contacts(Path("export.csv"), data)
    assert found.encoding == "cp1252"
    assert found.kind == "generic CSV, semicolon-separated (header on line 1)"
    [zoe] = found.contacts
    assert (zoe.name, zoe.company, zoe.emails, zoe.phones) == (
        "Zoë Kraus",
        "Café Crème",
        ("zoe@creme.example",),
        ("+43 1",),
    )
    assert zoe.details == ("Notes: Owes €40",)


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        (b"\xef\xbb\xbfName\nZo\xc3\xab\n", "Name\nZoë\n", "UTF-8 with BOM"),
        (b"Name\nZo\xc3\xab\n", "Name\nZoë\n", "UTF-8"),
        ("Name\tEmail\nZoë\tz@x\n".encode("utf-16"), "Name\tEmail\nZoë\tz@x\n", "UTF-16"),
        (b"Name\nZo\xeb \x80\n", "Name\nZoë €\n", "cp1252"),
        (b"Name\nA\x81\n", "Name\nA\x81\n", "Latin-1"),  # 0x81 is not cp1252
    ],
)
def test_decode(data: bytes, text: str, encoding: str) -> None:
    assert decode(data) == (text, encoding)


def test_bom_does_not_hide_the_first_header() -> None:
    found = read_contacts(Path("bom.csv"), b"\xef\xbb\xbfName,Email\nAnn,ann@x.example\n")
    assert [c.name for c in found.contacts] == ["Ann"]


def test_no_name_column_is_one_clear_error() -> None:
    with pytest.raises(MdfollowError, match=r"no name column found .*'Email', 'Company'"):
        read_contacts(Path("x.csv"), b"Email,Company\na@x.example,Acme\n")


def test_bad_rows_are_reported_with_their_line_and_the_rest_read() -> None:
    text = (
        "Name,Email,Notes\n"
        'Ann,ann@x.example,"two\nlines"\n'  # a quoted value over two lines
        "Bob,bob@x.example,too,many\n"
        ",,\n"
        ",,just a note\n"
        "Cy,cy@x.example,\n"
    )
    found = read_contacts(Path("x.csv"), text.encode())
    assert [(c.line, c.name) for c in found.contacts] == [(2, "Ann"), (7, "Cy")]
    assert [str(p) for p in found.problems] == [
        "x.csv:4: 4 values for 3 columns (an unquoted comma in a value?): skipped",
        "x.csv:6: no name and no email: skipped",
    ]


def test_one_column_is_counted_in_the_singular() -> None:
    found = read_contacts(Path("x.csv"), b"Name\nAnn\nBob,Acme\n")
    assert [str(p) for p in found.problems] == [
        "x.csv:3: 2 values for 1 column (an unquoted comma in a value?): skipped"
    ]


def test_a_stray_quote_spoils_only_its_own_record() -> None:
    text = 'Name,Email\n"Ann" Lee,ann@x.example\nBob,bob@x.example\n"Cy,cy@x.example\nDee,dee@x.example\n'
    found = read_contacts(Path("x.csv"), text.encode())
    assert [c.name for c in found.contacts] == ["Bob"]
    assert [str(p) for p in found.problems] == [
        "x.csv:2: unreadable record (',' expected after '\"'): skipped",
        "x.csv:4: unreadable record (unexpected end of data): skipped",
    ]


def test_an_email_cell_without_at_sign_is_kept_as_a_detail() -> None:
    [ann] = read_contacts(Path("x.csv"), b"Name,Email\nAnn,ask reception\n").contacts
    assert (ann.emails, ann.details) == ((), ("Email: ask reception",))


def test_body_cannot_open_a_touch_log(tmp_path: Path) -> None:
    contact = Contact(1, "Ann", details=("Position: CTO",), notes=("## Touches\n- 2026-01-01 call: x\n```",))
    path = create_prospect(tmp_path, contact.name, extra_body=contact.body)
    [prospect] = load_folder(tmp_path).prospects
    assert (prospect.touches, prospect.notes) == ((), ())
    assert "Position: CTO\n\n\\## Touches\n- 2026-01-01 call: x\n\\```\n" in path.read_text()


def _prospect(email: str) -> Prospect:
    return Prospect(id="jane", path=Path("jane.md"), name="Jane", emails=(email,))


def test_plan_skips_known_emails_and_repeats_case_insensitively() -> None:
    contacts = [
        Contact(2, "Jane", emails=("JANE@acme.example",)),
        Contact(3, "Ann", emails=("ann@x.example",)),
        Contact(4, "Ann again", emails=("other@x.example", "Ann@X.example")),
        Contact(5, "No Email"),
        Contact(6, "No Email"),
    ]
    new, skipped = plan_import(contacts, [_prospect("jane@acme.example")])
    assert [c.line for c in new] == [3, 5]  # without an email, name and company are compared
    assert [reason for _, reason in skipped] == [
        "Jane <JANE@acme.example>: email already in jane.md: skipped",
        "Ann again <Ann@X.example>: email already imported from line 3: skipped",
        "No Email (no email): same name and company already imported from line 5: skipped",
    ]


@pytest.mark.parametrize("name", ["cards.vcf", "linkedin.csv"])
def test_the_example_files_read_cleanly(name: str) -> None:
    found = read_contacts(EXAMPLES / name, (EXAMPLES / name).read_bytes())
    assert found.problems == ()
    assert len(found.contacts) >= 4
    assert all(c.name and (c.emails or c.company) for c in found.contacts)
