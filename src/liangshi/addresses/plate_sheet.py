"""QR door plates drawn: a plate's QR code (segno) and the printable sheet of an area's or a street's plates
(fpdf2, with the WenQuanYi Micro Hei font for the Chinese text)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

from liangshi.errors import LiangshiError

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
COLUMNS, ROWS = 2, 4  # plates per A4 page: two across, four down
_CELL_W, _CELL_H, _MARGIN = 95.0, 68.0, 10.0
_QR_MM = 36.0


@dataclass(frozen=True)
class PlateCard:
    """One plate as the sheet prints it."""

    text: str  # the standard address
    code: str
    payload: str  # what the QR code holds
    station: str | None
    grid: str | None


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    """The QR code of a payload as PNG (error correction M: a plate weathers outdoors)."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(payload: str) -> bytes:
    """The QR code of a payload as SVG (for a plate maker's own layout)."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="svg", scale=4, border=4)
    return out.getvalue()


def font_missing(path: Path) -> LiangshiError:
    """The Chinese font the sheet needs is not installed (the sheet cannot print its text without it)."""
    return LiangshiError(
        "plate_sheet.font_missing",
        f"缺少中文字体{path}（请安装 fonts-wqy-microhei），无法生成门牌打印页",
        f"The Chinese font {path} is missing (install fonts-wqy-microhei): cannot make the plate sheet",
        {"font": str(path)},
        http_status=503,
    )


def render_sheet(title: str, cards: list[PlateCard], *, font: Path = FONT) -> bytes:
    """A PDF of plate cards, eight to an A4 page: the address in Chinese, its code, the QR code and the
    station's and grid's contact."""
    if not font.exists():
        raise font_missing(font)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_creator("liangshi")
    pdf.add_font("wqy", "", str(font), collection_font_number=0)
    per_page = COLUMNS * ROWS
    for n, card in enumerate(cards):
        if n % per_page == 0:
            pdf.add_page()
            pdf.set_font("wqy", size=11)
            pdf.set_xy(_MARGIN, 4)
            pdf.cell(0, 5, f"{title}（{n // per_page + 1}/{(len(cards) - 1) // per_page + 1}）")
        slot = n % per_page
        x = _MARGIN + (slot % COLUMNS) * _CELL_W
        y = _MARGIN + (slot // COLUMNS) * _CELL_H
        pdf.rect(x, y, _CELL_W - 4, _CELL_H - 4)
        pdf.image(io.BytesIO(qr_png(card.payload)), x=x + 2, y=y + 2, w=_QR_MM, h=_QR_MM)
        text_x, text_w = x + _QR_MM + 4, _CELL_W - _QR_MM - 10
        pdf.set_font("wqy", size=12)
        pdf.set_xy(text_x, y + 3)
        pdf.multi_cell(text_w, 6, card.text)
        pdf.set_font("wqy", size=8)
        pdf.set_xy(text_x, pdf.get_y() + 1)
        pdf.multi_cell(text_w, 4, f"地址编码 {card.code}")
        pdf.set_xy(x + 2, y + _QR_MM + 4)
        lines = [
            f"责任派出所：{card.station or '—'}",
            f"责任网格：{card.grid or '—'}",
            "扫码自主申报 · 上门核录",
        ]
        pdf.multi_cell(_CELL_W - 8, 5, "\n".join(lines))
    return bytes(pdf.output())
