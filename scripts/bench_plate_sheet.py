"""Plate sheet rendering throughput (issue 20): QR codes and the PDF of N plate cards, on one core.

    .venv/bin/python scripts/bench_plate_sheet.py --plates 400 --repeat 3

Baseline in the same run: the QR codes alone (segno, PNG), which the sheet embeds one per card. The cards are
synthetic (street and number, an 18-digit code, the station's contact); the sheet is checked to decode back.
"""

from __future__ import annotations

import argparse
import io
import time

from liangshi.addresses.plate_sheet import PlateCard, qr_png, render_sheet
from liangshi.addresses.rules import plate_qr_payload


def cards(n: int) -> list[PlateCard]:
    """N synthetic plate cards along ten streets."""
    out = []
    for i in range(n):
        code = f"420704{i + 1:012d}"
        station = "凤凰派出所 0711-3220110"
        text = f"湖北省鄂州市鄂城区凤凰街道滨湖社区滨湖南路{2 * i + 1}号"
        out.append(
            PlateCard(text, code, plate_qr_payload("https://ls.example", code, station, None), station, None)
        )
    return out


def main() -> None:
    """Time the QR codes alone and the whole sheet; print plates/s (best of the repeats)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--plates", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    deck = cards(args.plates)
    best_qr = best_pdf = float("inf")
    size = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for c in deck:
            qr_png(c.payload)
        best_qr = min(best_qr, time.perf_counter() - t0)
        t0 = time.perf_counter()
        pdf = render_sheet("滨湖社区", deck)
        best_pdf = min(best_pdf, time.perf_counter() - t0)
        size = len(pdf)
    from pypdf import PdfReader  # only to check the sheet reads back (a test dependency)

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"plates: {args.plates}, pages: {pages}, PDF {size / 1024:.0f} KiB")
    print(f"QR codes alone (baseline): {args.plates / best_qr:,.0f} plates/s")
    print(f"whole sheet (QR + PDF):    {args.plates / best_pdf:,.0f} plates/s")


if __name__ == "__main__":
    main()
