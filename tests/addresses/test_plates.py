"""QR door plates (二维码门牌): the code holds the address code and the station's and grid's contact only; the
printable sheet (PDF) of a community or a street, read back by its text and by decoding its QR codes."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from typer.testing import CliRunner

from liangshi.addresses import service as addresses
from liangshi.addresses.plate_sheet import PlateCard, qr_png, render_sheet
from liangshi.addresses.rules import plate_qr_payload, read_plate_qr
from liangshi.addresses.schemas import PlateContactIn
from liangshi.cli.main import app as cli
from liangshi.errors import LiangshiError, NotFound
from tests.addresses.test_matching import _street_with_plates
from tests.conftest import INSIDE, World

CONTACT = {
    "station_name": "凤凰派出所",
    "station_phone": "0711-3220110",
    "grid_name": "凤凰社区第1网格",
    "grid_phone": "0711-3221001",
}


def _decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def _sheet_qr_texts(pdf: bytes) -> list[str]:
    texts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            texts.extend(_decode(image.data))
    return texts


def test_a_rendered_qr_code_reads_back_as_its_payload() -> None:
    payload = plate_qr_payload("https://ls.example/", "420704000000000012", "凤凰派出所 0711-3220110", None)
    assert payload.startswith("https://ls.example/q/420704000000000012?station=")
    assert _decode(qr_png(payload)) == [payload]
    assert read_plate_qr(payload) == {"code": "420704000000000012", "station": "凤凰派出所 0711-3220110"}


def test_the_qr_payload_holds_no_personal_data(world: World) -> None:
    _, plates = _street_with_plates(world, ["12"])
    with world.session() as s:
        ctx = world.ctx(s)
        addresses.set_plate_contact(s, ctx, world.area(INSIDE), PlateContactIn(**CONTACT))
        card = addresses.plate_qr(s, ctx, plates["12"], "https://ls.example")
    parts = urlsplit(card.payload)
    # Only the address code in the path and the two contacts in the query: no name, no ID number, no room.
    assert re.fullmatch(r"/q/\d{18}", parts.path)
    assert {k for k, _ in parse_qsl(parts.query)} == {"station", "grid"}
    assert read_plate_qr(card.payload) == {
        "code": card.code,
        "station": "凤凰派出所 0711-3220110",
        "grid": "凤凰社区第1网格 0711-3221001",
    }
    assert not re.search(r"\d{15,18}[\dXx]?", parts.query)  # nothing like an ID number


def test_the_api_prints_a_community_sheet_with_the_chinese_text_and_readable_codes(
    world: World, client: TestClient, login: Any
) -> None:
    _street_with_plates(world, ["12", "14", "16"])
    r = client.put(f"/areas/{world.area(INSIDE)}/plate-contact", json=CONTACT, headers=login("police_liu"))
    assert r.status_code == 200, r.text
    inherited = client.get(f"/areas/{world.area(INSIDE)}/plate-contact", headers=login("collector_zhang"))
    assert inherited.json()["station"] == "凤凰派出所 0711-3220110"
    r = client.get(f"/areas/{world.area(INSIDE)}/plate-sheet.pdf", headers=login("police_liu"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages).replace("\n", "")
    for number in ("12", "14", "16"):
        assert f"滨湖南路{number}号" in text
    assert "凤凰派出所 0711-3220110" in text and "凤凰社区第1网格" in text
    codes = sorted(read_plate_qr(t)["code"] for t in _sheet_qr_texts(r.content))
    assert len(codes) == 3 and all(re.fullmatch(r"\d{18}", c) for c in codes)
    assert all(c in text for c in codes)


def test_a_street_sheet_and_a_plate_qr_svg_from_the_api(world: World, client: TestClient, login: Any) -> None:
    sid, plates = _street_with_plates(world, ["1", "3"])
    r = client.get(f"/streets/{sid}/plate-sheet.pdf", headers=login("collector_zhang"))
    assert r.status_code == 200, r.text
    assert len(_sheet_qr_texts(r.content)) == 2
    svg = client.get(f"/addresses/{plates['1']}/qr.svg", headers=login("collector_zhang"))
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<?xml")
    qr = client.get(f"/addresses/{plates['1']}/qr", headers=login("collector_zhang")).json()
    assert qr["payload"].startswith("http://testserver/q/") and qr["station"] is None


def test_a_sheet_for_an_area_without_plates_says_so(world: World, client: TestClient, login: Any) -> None:
    r = client.get(f"/areas/{world.area(INSIDE)}/plate-sheet.pdf", headers=login("police_liu"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "plate_sheet.no_plates"
    outside = client.get(f"/areas/{world.area('420102001001')}/plate-sheet.pdf", headers=login("police_liu"))
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "area.not_found"


def test_a_bad_contact_is_refused_and_writes_nothing(world: World, client: TestClient, login: Any) -> None:
    bad = {**CONTACT, "station_phone": "call Zhang"}
    r = client.put(f"/areas/{world.area(INSIDE)}/plate-contact", json=bad, headers=login("police_liu"))
    assert r.status_code == 422
    after = client.get(f"/areas/{world.area(INSIDE)}/plate-contact", headers=login("police_liu")).json()
    assert after["station"] is None
    refused = client.put(
        f"/areas/{world.area(INSIDE)}/plate-contact", json=CONTACT, headers=login("auditor_sun")
    )
    assert refused.status_code == 403


def test_a_missing_font_fails_clearly(tmp_path: Path) -> None:
    card = PlateCard("滨湖南路1号", "420704000000000001", "https://x/q/420704000000000001", None, None)
    with pytest.raises(LiangshiError) as caught:
        render_sheet("t", [card], font=tmp_path / "none.ttc")
    assert caught.value.code == "plate_sheet.font_missing" and caught.value.http_status == 503


def test_the_cli_prints_a_community_sheet_and_sets_the_contact(
    world: World, db_url: str, tmp_path: Path
) -> None:
    _street_with_plates(world, ["5", "7"])
    runner = CliRunner()
    env = {"LIANGSHI_DATABASE_URL": db_url}
    set_contact = runner.invoke(
        cli,
        [
            "plates",
            "contact",
            "--area",
            INSIDE,
            "--station-name",
            "凤凰派出所",
            "--station-phone",
            "0711-3220110",
        ],
        env=env,
    )
    assert set_contact.exit_code == 0, set_contact.output
    target = tmp_path / "plates.pdf"
    args = ["plates", "sheet", "--community", INSIDE, "-o", str(target), "--base-url", "https://ls.example"]
    done = runner.invoke(cli, args, env=env)
    assert done.exit_code == 0, done.output
    texts = _sheet_qr_texts(target.read_bytes())
    assert len(texts) == 2 and all(t.startswith("https://ls.example/q/") for t in texts)
    assert all(read_plate_qr(t)["station"] == "凤凰派出所 0711-3220110" for t in texts)
    by_street = runner.invoke(
        cli,
        ["plates", "sheet", "--street", "滨湖南路", "-o", str(tmp_path / "s.pdf"), "--base-url", "x"],
        env=env,
    )
    assert by_street.exit_code == 0, by_street.output
    unknown = runner.invoke(
        cli, ["plates", "sheet", "--street", "火星路", "-o", str(target), "--base-url", "x"], env=env
    )
    assert unknown.exit_code == 2 and "plate_sheet.place_not_found" in unknown.output


def test_the_cli_says_so_for_a_community_without_plates(world: World, db_url: str, tmp_path: Path) -> None:
    out = CliRunner().invoke(
        cli,
        ["plates", "sheet", "--community", INSIDE, "-o", str(tmp_path / "p.pdf"), "--base-url", "x"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert out.exit_code == 2 and "plate_sheet.no_plates" in out.output
    assert not (tmp_path / "p.pdf").exists()


def test_the_service_refuses_an_empty_street(world: World) -> None:
    sid, _ = _street_with_plates(world, [])
    with world.session() as s, pytest.raises(NotFound) as caught:
        addresses.plate_cards(s, world.ctx(s), base_url="x", street_id=sid)
    assert caught.value.code == "plate_sheet.no_plates"
