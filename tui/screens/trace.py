"""A lot's trace as a tree: the lot → where it is now, the kits built from it and the
courses (patients) they went to, clinic sessions, write-offs and every flow."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Header, Static, Tree

from kitops.services import lots
from kitops.services.dto.stock import Trace

from ..base import StockroomScreen
from ..widgets import lot_style, theme_colour


class TraceScreen(StockroomScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "expand_all", "Expand all"),
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
        tree: Tree[Any] = Tree(f"lot {self.code}", id="trace-tree", classes="loadable")
        tree.show_root = True
        yield tree
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#trace-tree").loading = True
        self.query_one("#trace-tree").focus()

    def refresh_data(self) -> None:
        self.load(self.code, self.sku)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, code: str, sku: str | None) -> None:
        self.post_message(self.Loaded(lots.trace(self.stockroom.reading(), code, sku=sku)))

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
                (f"{lot.sku} lot {lot.lot}", "bold"),
                f" · expiry {lot.expiry or '-'} · ",
                (lot.status, style),
                f"{' (' + lot.status_reason + ')' if lot.status_reason else ''}\n",
                f"received {trace.received} · in kits {trace.in_kits} · delivered "
                f"{trace.delivered} · written off {trace.written_off} · adjusted "
                f"{trace.adjusted:+d} · on hand {lot.total_on_hand}",
            )
        )
        tree = self.query_one("#trace-tree", Tree)
        tree.clear()
        tree.root.set_label(Text(f"{lot.sku} lot {lot.lot}", style="bold"))
        here = tree.root.add(f"On hand ({lot.total_on_hand})", expand=True)
        for place in lot.on_hand:
            here.add_leaf(f"{place.location} ({place.clinic or '-'}): {place.quantity}")
        error = theme_colour(self.app, "error", "red")
        kits = tree.root.add(f"Kits ({len(trace.kits)})", expand=True)
        for kit in trace.kits:
            label = Text(f"{kit.serial} {kit.status}", style=error if kit.recalled else "")
            if kit.recalled:
                label.append(" RECALLED")
            node = kits.add(label, expand=True)
            node.add_leaf(f"{kit.quantity} unit(s) of this lot")
            if kit.course_id is not None:
                node.add_leaf(f"course {kit.course_id} · patient {kit.patient_ref}")
        if trace.at_patients:
            home = tree.root.add(
                Text(f"At patients' homes, to contact ({len(trace.at_patients)})", style=error)
                if lot.status == "recalled"
                else f"At patients' homes ({len(trace.at_patients)})",
                expand=True,
            )
            for out in trace.at_patients:
                home.add_leaf(
                    f"{out.serial} {out.status.replace('_', ' ')} {out.went_out or ''} · course "
                    f"{out.course_id} · patient {out.patient_ref} · {out.clinic or '-'}"
                    + (f" · tracking {out.tracking}" if out.tracking else "")
                )
        if trace.released:
            freed = tree.root.add(
                f"Reserved kits released by the recall ({len(trace.released)})", expand=True
            )
            for gone in trace.released:
                freed.add_leaf(
                    f"course {gone.course_id} part {gone.part} · patient {gone.patient_ref} · "
                    f"{gone.clinic or '-'} · needed from {gone.needed_from or '-'} · "
                    f"{gone.serial} released {gone.recalled_on} · "
                    + (f"now {gone.now_kit}" if gone.now_kit else "no kit now")
                )
        courses = sorted(
            {(k.course_id, k.patient_ref) for k in trace.kits if k.course_id is not None}
            | {(s.course_id, s.patient_ref) for s in trace.sessions},
            key=lambda pair: pair[0] or 0,
        )
        patients = tree.root.add(f"Courses ({len(courses)})", expand=True)
        for course_id, patient in courses:
            patients.add_leaf(f"course {course_id} · patient {patient}")
        sessions = tree.root.add(f"Clinic sessions ({len(trace.sessions)})")
        for session in trace.sessions:
            sessions.add_leaf(
                f"{session.date} course {session.course_id} session {session.session_no} "
                f"({session.patient_ref}): {session.quantity}"
            )
        offs = [f for f in trace.flows if f.to_location == "SCRAP"]
        scrap = tree.root.add(f"Write-offs ({sum(f.quantity for f in offs)})", expand=True)
        for flow in offs:
            scrap.add_leaf(
                f"{flow.quantity} from {flow.from_location} ({flow.detail or flow.reason}) "
                f"{flow.first:%Y-%m-%d}"
                + (f" – {flow.last:%Y-%m-%d}" if flow.last.date() != flow.first.date() else "")
            )
        flows = tree.root.add(f"Movements ({len(trace.flows)})")
        for flow in trace.flows:
            refs = f" refs {', '.join(flow.references[:3])}" if flow.references else ""
            more = f" +{len(flow.references) - 3}" if len(flow.references) > 3 else ""
            flows.add_leaf(
                f"{flow.from_location} → {flow.to_location} {flow.reason}: {flow.quantity} "
                f"in {flow.moves} move(s){refs}{more}"
            )
        tree.root.expand()

    def action_expand_all(self) -> None:
        self.query_one("#trace-tree", Tree).root.expand_all()
