"""Inspection visits on a phone, offline (离线抽查): the app's shell, the sample download and the outbox sync.

The app lives under /web/collect/ so that the collection app's service worker keeps its shell too, and it uses
the same outbox machinery (offline-outbox.js): each result an outbox item with a UUID made on the phone, synced
when online, answered item by item (`liangshi.inspections.service.offline`).
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from liangshi.campaign import sync
from liangshi.campaign.schemas import SyncBatch
from liangshi.inspections.service import offline
from liangshi.persons import rules as person_rules
from liangshi.tables import rules as table_rules
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import page

router = web_router()
add_nav(NavItem("/web/collect/inspect", N_("Offline inspection"), "inspection.record", order=37))

APP_TEXTS = {
    "download": N_("Download my sample"),
    "downloaded": N_("Sample downloaded"),
    "no_work": N_("No sample downloaded yet. Download it while online."),
    "online": N_("Online"),
    "offline": N_("Offline"),
    "outbox": N_("Outbox"),
    "waiting": N_("Waiting"),
    "stored": N_("Stored"),
    "refused": N_("Not stored"),
    "edit": N_("Edit and resend"),
    "back": N_("Back"),
    "household": N_("Household"),
    "household_number": N_("Household number"),
    "community": N_("Community"),
    "inspected": N_("Inspected"),
    "members": N_("Registered persons"),
    "present": N_("Lives here"),
    "main_right": N_("Main items right"),
    "general_right": N_("General items present and right"),
    "general_wrong": N_("If not: items missing or wrong"),
    "general_count_needed": N_("Give how many general items are missing or wrong for"),
    "unconfirmed": N_("If not: not confirmed gone"),
    "floating_unentered": N_("Of them registered, but not in the system"),
    "floating": N_("Floating population"),
    "missed": N_("Living here but not registered, by age band"),
    "missed_floating": N_("Of them floating population"),
    "count_matches": N_("The household's member count matches"),
    "note": N_("Note"),
    "save": N_("Save result"),
    "saved_offline": N_("Saved in the outbox."),
    "own": N_("You collected this household: another inspector must check it."),
    "items": N_("items"),
}


@router.get("/collect/inspect")
def inspection_app(request: Request) -> Response:
    """The offline inspection app: the inspector's sampled households, a result form, an outbox, the sync."""
    with page(request) as p:
        p.ctx.actor.ensure("inspection.record")
        texts = {k: p.gettext(v) for k, v in APP_TEXTS.items()}
        bands = {key: p.gettext(label) for key, label in AGE_BAND_LABELS.items()}
        config = {
            "texts": texts,
            "bands": bands,
            "lang": i18n.short(p.lang),
            "user": p.user.username,
            "general_items": len(person_rules.GENERAL_ITEMS),
        }
        return render(request, "collect/inspect.html", p, config=json.dumps(config, ensure_ascii=False))


@router.get("/collect/inspect/work.json")
def inspection_work(request: Request) -> Response:
    """The sampled households not inspected yet, with their members (the read is logged)."""
    with page(request) as p:
        return JSONResponse(offline.work_for(p.session, p.ctx))


@router.post("/collect/inspect/sync")
def inspection_sync(request: Request, body: SyncBatch) -> Response:
    """Sync the phone's results: one answer per item (stored, replayed, refused with its reason)."""
    parts = []
    for offset, part in sync.chunks(body.items):
        with page(request) as p:
            parts.append(offline.sync_results(p.session, p.ctx, part, offset=offset))
    return JSONResponse(sync.merged(parts).model_dump(mode="json"))


AGE_BAND_LABELS = {
    "0-17": N_("Aged 0–17"),
    "18-34": N_("Aged 18–34"),
    "35-59": N_("Aged 35–59"),
    "60+": N_("Aged 60 and over"),
    "unknown": N_("Age unknown"),
}
assert set(AGE_BAND_LABELS) == {key for key, *_rest in table_rules.AGE_BANDS}
