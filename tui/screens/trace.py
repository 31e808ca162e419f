"""A lot's trace as a tree: the lot → where it is now, the kits built from it and the
courses (patients) they went to, clinic sessions, write-offs and every flow."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Header, Static, Tree

from kitops.i18n import N_, _, formats
from kitops.services import lots
from kitops.services.dto.lots import Trace

from ..base import StockroomScreen, translate
from ..widgets import KitopsFooter, lot_style, status_label, theme_colour

# why stock moved (the ledger's stored reason is the key; English shows it as stored)
MOVE_REASONS = {
    "receipt": N_("receipt"),
    "opening": N_("opening"),
    "transfer": N_("transfer"),
    "count": N_("count"),
    "write_off": N_("write_off"),
    "expiry": N_("expiry"),
    "kit_assembly": N_("kit_assembly"),
    "kit_disassembly": N_("kit_disassembly"),
    "dispatch": N_("dispatch"),
    "return": N_("return"),
    "session": N_("session"),
}


def _reason(reason: str) -> str:
    label = MOVE_REASONS.get(reason)
    return translate(label) if label else reason


def _day(value: Any) -> str:
    return formats.date(value) if value else "-"


class TraceScreen(StockroomScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("e", "expand_all", N_("Expand all")),
    ]

    class Loaded(Message):
        def __init__(self, trace: Trace) -> None:
            super().__init__()
            self.trace = trace

    def __init__(self, code: str, sku: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.sku = sku
        self.trace: Trace | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="trace-summary")
        tree: Tree[Any] = Tree(
            _("lot {lot}").format(lot=self.code), id="trace-tree", classes="loadable"
        )
        tree.show_root = True
        yield tree
        yield KitopsFooter()

    def on_mount(self) -> None:
        self.query_one("#trace-tree").loading = True
        self.query_one("#trace-tree").focus()

    def refresh_data(self) -> None:
        self.load(self.code, self.sku)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, code: str, sku: str | None) -> None:
        self.post_message(
            self.Loaded(lots.trace(self.stockroom.reading(), code, sku=sku, references=3))
        )

    def show_refusal(self, error: BaseException, worker: Any = None) -> bool:
        self.query_one("#trace-summary", Static).update(Text(str(error), style="bold"))
        return False  # and the dialog too: the lot was not found

    def on_trace_screen_loaded(self, message: Loaded) -> None:
        self.trace = trace = message.trace
        self.query_one("#trace-tree").loading = False
        lot = trace.lot
        style = lot_style(self.app, lot.status, None)
        self.query_one("#trace-summary", Static).update(
            Text.assemble(
                (_("{sku} lot {lot}").format(sku=lot.sku, lot=lot.lot), "bold"),
                " · " + _("expiry {day}").format(day=_day(lot.expiry)) + " · ",
                (status_label(lot.status), style),
                f"{' (' + lot.status_reason + ')' if lot.status_reason else ''}\n",
                _(
                    "received {received} · in kits {in_kits} · delivered {delivered} · "
                    "written off {written_off} · adjusted {adjusted} · on hand {on_hand}"
                ).format(
                    received=trace.received,
                    in_kits=trace.in_kits,
                    delivered=trace.delivered,
                    written_off=trace.written_off,
                    adjusted=f"{trace.adjusted:+d}",
                    on_hand=lot.total_on_hand,
                ),
            )
        )
        tree = self.query_one("#trace-tree", Tree)
        tree.clear()
        tree.root.set_label(
            Text(_("{sku} lot {lot}").format(sku=lot.sku, lot=lot.lot), style="bold")
        )
        here = tree.root.add(_("On hand ({n})").format(n=lot.total_on_hand), expand=True)
        for place in lot.on_hand:
            here.add_leaf(f"{place.location} ({place.clinic or '-'}): {place.quantity}")
        error = theme_colour(self.app, "error", "red")
        kits = tree.root.add(_("Kits ({n})").format(n=len(trace.kits)), expand=True)
        for kit in trace.kits:
            label = Text(
                f"{kit.serial} {status_label(kit.status)}", style=error if kit.recalled else ""
            )
            if kit.recalled:
                label.append(" " + _("RECALLED"))
            node = kits.add(label, expand=True)
            node.add_leaf(_("{n} unit(s) of this lot").format(n=kit.quantity))
            if kit.course_id is not None:
                node.add_leaf(
                    _("course {course} · patient {patient}").format(
                        course=kit.course_id, patient=kit.patient_ref
                    )
                )
        if trace.at_patients:
            outside = len(trace.at_patients)
            home = tree.root.add(
                Text(_("At patients' homes, to contact ({n})").format(n=outside), style=error)
                if lot.status == "recalled"
                else _("At patients' homes ({n})").format(n=outside),
                expand=True,
            )
            for out in trace.at_patients:
                went = formats.date(out.went_out) if out.went_out else ""
                leaf = _("{serial} {status} {went} · course {course} · patient {patient}").format(
                    serial=out.serial,
                    status=status_label(out.status),
                    went=went,
                    course=out.course_id,
                    patient=out.patient_ref,
                )
                leaf += f" · {out.clinic or '-'}"
                if out.tracking:
                    leaf += " · " + _("tracking {tracking}").format(tracking=out.tracking)
                home.add_leaf(leaf)
        if trace.released:
            freed = tree.root.add(
                _("Reserved kits released by the recall ({n})").format(n=len(trace.released)),
                expand=True,
            )
            for gone in trace.released:
                freed.add_leaf(
                    _(
                        "course {course} part {part} · patient {patient} · {clinic} · "
                        "needed from {needed} · {serial} released {released} · {now}"
                    ).format(
                        course=gone.course_id,
                        part=gone.part,
                        patient=gone.patient_ref,
                        clinic=gone.clinic or "-",
                        needed=_day(gone.needed_from),
                        serial=gone.serial,
                        released=formats.date(gone.recalled_on),
                        now=(
                            _("now {kit}").format(kit=gone.now_kit)
                            if gone.now_kit
                            else _("no kit now")
                        ),
                    )
                )
        courses = sorted(
            {(k.course_id, k.patient_ref) for k in trace.kits if k.course_id is not None}
            | {(s.course_id, s.patient_ref) for s in trace.sessions},
            key=lambda pair: pair[0] or 0,
        )
        patients = tree.root.add(_("Courses ({n})").format(n=len(courses)), expand=True)
        for course_id, patient in courses:
            patients.add_leaf(
                _("course {course} · patient {patient}").format(course=course_id, patient=patient)
            )
        sessions = tree.root.add(_("Clinic sessions ({n})").format(n=len(trace.sessions)))
        for session in trace.sessions:
            sessions.add_leaf(
                _("{day} course {course} session {session} ({patient}): {qty}").format(
                    day=formats.date(session.date),
                    course=session.course_id,
                    session=session.session_no,
                    patient=session.patient_ref,
                    qty=session.quantity,
                )
            )
        offs = [f for f in trace.flows if f.to_location == "SCRAP"]
        scrap = tree.root.add(
            _("Write-offs ({n})").format(n=sum(f.quantity for f in offs)), expand=True
        )
        for flow in offs:
            days = formats.date(flow.first.date())
            if flow.last.date() != flow.first.date():
                days += " – " + formats.date(flow.last.date())
            scrap.add_leaf(
                _("{qty} from {location} ({why}) {days}").format(
                    qty=flow.quantity,
                    location=flow.from_location,
                    why=flow.detail or _reason(flow.reason),
                    days=days,
                )
            )
        flows = tree.root.add(_("Movements ({n})").format(n=len(trace.flows)))
        for flow in trace.flows:
            refs = (
                " " + _("refs {refs}").format(refs=", ".join(flow.references[:3]))
                if flow.references
                else ""
            )
            hidden = flow.reference_count - len(flow.references[:3])
            more = f" +{hidden}" if hidden > 0 else ""
            moves = _("{source} → {target} {reason}: {qty} in {moves} move(s)").format(
                source=flow.from_location,
                target=flow.to_location,
                reason=_reason(flow.reason),
                qty=flow.quantity,
                moves=flow.moves,
            )
            flows.add_leaf(f"{moves}{refs}{more}")
        tree.root.expand()

    def action_expand_all(self) -> None:
        self.query_one("#trace-tree", Tree).root.expand_all()
