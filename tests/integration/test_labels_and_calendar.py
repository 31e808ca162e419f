"""Kit labels (PDF and PNG) and course calendars (iCalendar), on both backends."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar
from PIL import Image

from kitops.documents.calendar import PRODID, write_calendar
from kitops.documents.labels import (
    LABEL_H_MM,
    LABEL_W_MM,
    RECALLED,
    label_element_string,
    label_lines,
    write_labels,
)
from kitops.domain.ledger import LotStatus
from kitops.domain.locations import clinic_today
from kitops.errors import InvalidInput
from kitops.services import courses, kits, lots
from kitops.services.labels import read_labels

AS_OF = date(2026, 11, 22)


# every test's database holds the demo data as of ``AS_OF`` (a copy of a template loaded
# once per run): kits K0000001..9, courses 1..11
pytestmark = pytest.mark.demo_data(AS_OF)


@pytest.fixture
def out_dir(tmp_path):
    """An empty folder for the files written (the SQLite database lives in pytest's own)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# --- labels ---------------------------------------------------------------------------------


def test_pdf_has_one_62_by_40_mm_page_per_label(uow, out_dir):
    out = out_dir / "labels.pdf"
    assert write_labels(uow(readonly=True), ["K0000001", "k0000002"], str(out)) == out
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", data)) == 2
    width, height = (
        float(v) for v in re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data).groups()
    )
    assert width == pytest.approx(LABEL_W_MM / 25.4 * 72, abs=0.05)
    assert height == pytest.approx(LABEL_H_MM / 25.4 * 72, abs=0.05)


def test_png_stacks_the_labels_at_300_dpi(uow, out_dir):
    out = out_dir / "labels.png"
    write_labels(uow(readonly=True), ["K0000001", "K0000005"], str(out))
    with Image.open(out) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width == round(LABEL_W_MM / 25.4 * 300)
        assert height / width == pytest.approx(2 * LABEL_H_MM / LABEL_W_MM, rel=0.01)
        assert image.info["dpi"][0] == pytest.approx(300, abs=0.5)
        for top in (0, height // 2):  # each label has ink: a DataMatrix and text
            low, high = image.convert("L").crop((0, top, width, top + height // 2)).getextrema()
            assert (low, high) == (0, 255)


def test_label_text_and_code(uow):
    reserved, free = read_labels(uow(readonly=True), ["K0000001", "K0000002"])
    assert reserved.course_id == 1
    assert reserved.patient_ref == "P-LON-0001"
    texts = [line.text for line in label_lines(reserved)]
    assert "KIT-HOME-6W" in texts
    assert "Serial K0000001" in texts
    assert f"Use by {reserved.expiry.day} {reserved.expiry:%B %Y}" in texts
    assert "Course 1, kit 1" in texts
    assert "Patient P-LON-0001" in texts
    assert not any("Patient" in line.text for line in label_lines(free))
    lot = reserved.serum_lots[0]
    assert label_element_string(reserved) == (
        f"010506099990008317{reserved.expiry:%y%m%d}10{lot}\x1d21K0000001"
    )


def test_a_recalled_kit_says_so_in_bold(uow, out_dir):
    lot = kits.show_kit(uow(readonly=True), "K0000002").components[0]
    lots.change_status(uow(), lot.lot, LotStatus.RECALLED, reason="test recall", sku=lot.sku)
    (label,) = read_labels(uow(readonly=True), ["K0000002"])
    assert label.recalled
    warning = label_lines(label)[0]
    assert (warning.text, warning.bold) == (RECALLED, True)
    write_labels(uow(readonly=True), ["K0000002"], str(out_dir / "recalled.pdf"))
    write_labels(uow(readonly=True), ["K0000002"], str(out_dir / "recalled.png"))


def test_characters_helvetica_lacks_are_replaced(out_dir):
    from kitops.documents.labels import render_pdf
    from kitops.services.labels import Label

    label = Label("K0000001", "KIT-Ω", "Kit für Zoë – 6 × ½ ml ✓ 漢", date(2027, 1, 1), None,
                  None, None, False)  # fmt: skip
    texts = [line.text for line in label_lines(label)]
    assert "Kit für Zoë – 6 × ½ ml ? ?" in texts
    assert render_pdf([label]).startswith(b"%PDF")


@pytest.mark.parametrize("suffix", [".pdf", ".png"])
def test_unknown_serial_is_bad_input_and_nothing_is_written(uow, out_dir, suffix):
    out = out_dir / f"labels{suffix}"
    with pytest.raises(InvalidInput) as raised:
        write_labels(uow(readonly=True), ["K0000001", "K9999999"], str(out))
    assert (raised.value.field, raised.value.value) == ("serial", "K9999999")
    assert not out.exists()


@pytest.mark.parametrize("name", ["labels.svg", "labels", "labels.pdf.txt"])
def test_other_extensions_are_bad_input(uow, out_dir, name):
    with pytest.raises(InvalidInput) as raised:
        write_labels(uow(readonly=True), ["K0000001"], str(out_dir / name))
    assert raised.value.field == "out"
    assert list(out_dir.iterdir()) == []


def test_a_missing_folder_is_bad_input(uow, out_dir):
    with pytest.raises(InvalidInput) as raised:
        write_labels(uow(readonly=True), ["K0000001"], str(out_dir / "nowhere" / "l.pdf"))
    assert raised.value.field == "out"


# --- calendar -------------------------------------------------------------------------------


def _events(calendar: Calendar) -> list:
    return [c for c in calendar.walk() if c.name == "VEVENT"]


@pytest.mark.parametrize("course_id", [1, 4, 8])  # home 6 weeks, clinic, PTT-6 with check-ins
def test_calendar_has_one_event_per_appointment(uow, out_dir, course_id):
    course = courses.show_course(uow(readonly=True), course_id)
    out = out_dir / "course.ics"
    assert write_calendar(uow(readonly=True), str(course_id), str(out)) == out
    data = out.read_bytes()
    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID == "-//kitops//course calendar//EN"
    assert course.patient_ref in str(calendar["X-WR-CALNAME"])

    events = _events(calendar)
    kinds = [e.kind for e in course.events]
    assert len(events) == len(course.events)
    assert len(events) == (
        kinds.count("application") + kinds.count("checkin") + kinds.count("followup")
    )
    if course_id == 8:
        assert kinds.count("checkin") == 5
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    home = course.plan != "clinic-weekly-6"
    for event in events:
        assert re.fullmatch(rf"course-{course_id}-(application|checkin|followup)-\d+@kitops",
                            str(event["UID"]))  # fmt: skip
        assert event["DTSTAMP"].dt.utcoffset() == timedelta(0)
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        uid = str(event["UID"])
        at_home = home and "-application-" in uid and not uid.endswith("-application-1@kitops")
        if at_home:  # all day, no clinic: which kit and vial, and the clinic's instructions
            assert type(start) is date
            assert end == start + timedelta(days=1)
            assert "LOCATION" not in event
            assert re.match(r"At home: use kit \d, vial \d+\.\nDo not wash your hair",
                            str(event["DESCRIPTION"]))  # fmt: skip
        else:  # a clinic visit: its appointment in the clinic's zone, half an hour
            assert type(start) is datetime
            assert str(start.tzinfo) == course.timezone
            assert (start.hour, start.minute) == (9, 0)
            assert end - start == timedelta(minutes=30)
            assert course.clinic in str(event["LOCATION"])
            assert str(event["DESCRIPTION"]).startswith("At the clinic: ")
    first = next(e for e in events if str(e["UID"]).endswith("-application-1@kitops"))
    assert first["DTSTART"].dt.date() == course.start
    total = kinds.count("application")
    assert str(first["SUMMARY"]).startswith(f"Hair serum application 1 of {total} (")
    days = sorted(e["DTSTART"].dt if type(e["DTSTART"].dt) is date else e["DTSTART"].dt.date()
                  for e in events)  # fmt: skip
    assert days[0] == course.start
    assert days == sorted(e.at.date() for e in course.events)

    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    # the pseudonymous reference appears in the calendar name only
    unfolded = data.replace(b"\r\n ", b"")
    assert [line for line in unfolded.split(b"\r\n") if course.patient_ref.encode() in line] == [
        b"X-WR-CALNAME:" + str(calendar["X-WR-CALNAME"]).encode()
    ]


def test_calendar_gives_the_clinic_address_and_says_a_visit_moved(uow, out_dir):
    # the demo's London clinic opens mon-sat: course 4's first follow-up, 3 months after
    # its last session, falls on a Sunday and moved to the Monday
    work = uow()
    with work:
        work.locations.clinic("LON").address = "10 Harley Street, London W1G 9PF"
        work.commit()
    out = out_dir / "course.ics"
    write_calendar(uow(readonly=True), 4, str(out))
    events = {str(e["UID"]): e for e in _events(Calendar.from_ical(out.read_bytes()))}
    followup = events["course-4-followup-1@kitops"]
    assert followup["DTSTART"].dt.date() == date(2027, 3, 29)
    assert str(followup["SUMMARY"]).endswith(", moved from 2027-03-28")
    assert "Moved from 2027-03-28 (LON is closed on Sundays)" in str(followup["DESCRIPTION"])
    assert str(followup["LOCATION"]) == (
        "London, Harley Street (LON), 10 Harley Street, London W1G 9PF"
    )
    session = events["course-4-application-2@kitops"]
    assert "moved" not in str(session["SUMMARY"])
    assert "Moved" not in str(session["DESCRIPTION"])


def test_calendar_summaries(uow, out_dir):
    out = out_dir / "course.ics"
    write_calendar(uow(readonly=True), 8, str(out))
    summaries = {
        str(e["UID"]): str(e["SUMMARY"]) for e in _events(Calendar.from_ical(out.read_bytes()))
    }
    assert summaries["course-8-application-3@kitops"].startswith(
        "Hair serum application 3 of 12 (kit 1, vial "
    )
    assert summaries["course-8-checkin-1@kitops"] == "Clinic check-in, week 4"
    assert summaries["course-8-followup-1@kitops"].startswith("Follow-up review, 3 months")


def _statuses(uow, out_dir, course_id) -> dict[str, tuple[str, str]]:
    out = out_dir / f"course-{course_id}.ics"
    write_calendar(uow(readonly=True), course_id, str(out))
    return {str(e["UID"]).split("@")[0]: (str(e["STATUS"]), str(e["SUMMARY"]))
            for e in _events(Calendar.from_ical(out.read_bytes()))}  # fmt: skip


def test_the_calendar_says_which_events_a_cancelled_paused_or_ended_course_no_longer_holds(
    uow, out_dir
):
    assert {s for s, _ in _statuses(uow, out_dir, 3).values()} == {"CONFIRMED"}
    courses.cancel_course(uow(), 3)  # its events to come go off the patient's phone
    course = courses.show_course(uow(readonly=True), 3)
    today = clinic_today(course.timezone)
    cancelled = _statuses(uow, out_dir, 3)
    for event in course.events:
        status, summary = cancelled[f"course-3-{event.kind}-{event.number}"]
        gone = event.at.date() >= today
        assert status == ("CANCELLED" if gone else "CONFIRMED"), (event, status)
        assert summary.startswith("Cancelled: ") == gone

    courses.pause_course(uow(), 2, reason="patient travelling", today=AS_OF)
    course = courses.show_course(uow(readonly=True), 2)
    paused = _statuses(uow, out_dir, 2)
    for event in course.events:  # on hold from the day of the pause on
        status, summary = paused[f"course-2-{event.kind}-{event.number}"]
        on_hold = event.at.date() >= AS_OF
        assert status == ("TENTATIVE" if on_hold else "CONFIRMED"), (event, status)
        assert summary.startswith("On hold: ") == on_hold

    courses.complete_course(uow(), 2, early=True, reason="patient stopped", today=AS_OF)
    ended = _statuses(uow, out_dir, 2)
    for event in course.events:  # the follow-up reviews still hold
        status, _ = ended[f"course-2-{event.kind}-{event.number}"]
        gone = event.at.date() >= today and event.kind != "followup"
        assert status == ("CANCELLED" if gone else "CONFIRMED"), (event, status)
    assert {s for s, _ in ended.values()} >= {"CONFIRMED"}


def test_calendar_bad_input(uow, out_dir):
    with pytest.raises(InvalidInput) as raised:
        write_calendar(uow(readonly=True), 1, str(out_dir / "course.ical"))
    assert raised.value.field == "out"
    with pytest.raises(InvalidInput) as raised:
        write_calendar(uow(readonly=True), 99, str(out_dir / "course.ics"))
    assert raised.value.field == "course"
    assert list(out_dir.iterdir()) == []


# --- the command line -----------------------------------------------------------------------


def test_cli_exit_codes(uow, kitops, out_dir):
    ok = kitops("kit", "label", "K0000001", "K0000002", "--out", str(out_dir / "l.png"))
    assert ok.code == 0, ok.err
    assert "2 label(s) written" in ok.out
    assert kitops("kit", "label", "K0000001", "--out", str(out_dir / "l.txt")).code == 2
    assert kitops("kit", "label", "NOPE", "--out", str(out_dir / "l.pdf")).code == 2
    assert kitops("course", "calendar", "1", "--out", str(out_dir / "c.ics")).code == 0
    unknown = kitops("course", "calendar", "99", "--out", str(out_dir / "c99.ics"))
    assert (unknown.code, unknown.err) == (2, "kitops: course '99': no course has this number\n")
    assert kitops("course", "cancel", "3").code == 0  # its calendar cancels its events
    assert kitops("course", "calendar", "3", "--out", str(out_dir / "c3.ics")).code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["c.ics", "c3.ics", "l.png"]
