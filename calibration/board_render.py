"""Printable checkerboards: a vector PDF at true size, or a PNG at a stated resolution.

A board of C x R inner corners has (C + 1) x (R + 1) squares, with a white quiet zone around it
(the sector-based detector needs it): one square in the PNG, the paper's print margin (at least
PRINT_MARGIN_MM) in the PDF, whose caption sits below the board. The PDF draws each black square as an
exact rectangle in points (1/72 inch), so a printout "at actual size / 100 %" has the requested
square size; the PNG carries its DPI in a ``pHYs`` chunk and the square size is rounded to whole
pixels, and the actually printed size is returned so the user can pass it as ``--square``.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mocap_app.errors import CalibrationError

from .targets import Checkerboard

logger = logging.getLogger(__name__)

POINTS_PER_INCH = 72.0
METRES_PER_INCH = 0.0254
#: Paper sizes in millimetres (portrait width, height).
PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0), "letter": (215.9, 279.4)}
#: Printers do not print to the edge: keep this much paper free on every side, millimetres.
PRINT_MARGIN_MM = 10.0
#: White quiet zone around the board, in squares.
QUIET_ZONE_SQUARES = 1.0
DEFAULT_DPI = 300
#: Caption font size, line spacing (points) and line count in the PDF's bottom margin.
CAPTION_POINTS = 9.0
CAPTION_LEADING = 12.0
CAPTION_LINES = 2
#: White space between the caption and the board, millimetres.
CAPTION_GAP_MM = 5.0


@dataclass(frozen=True)
class PrintedBoard:
    """What was written: the file, and the square size the printout will have, metres."""

    path: Path
    square_m: float
    description: str


def board_image(board: Checkerboard, dpi: int = DEFAULT_DPI) -> tuple[np.ndarray, float]:
    """(H, W) uint8 board image with its quiet zone, and the true square size at ``dpi``, metres."""
    square_px = int(round(board.square_m / METRES_PER_INCH * dpi))
    if square_px < 8:
        raise CalibrationError(f"{1000 * board.square_m:.1f} mm squares are only {square_px} px at {dpi} DPI; "
                               "use a larger --square or --dpi.")
    margin = int(round(QUIET_ZONE_SQUARES * square_px))
    squares_x, squares_y = board.columns + 1, board.rows + 1
    rows = (np.arange(squares_y * square_px) // square_px)[:, None]
    cols = (np.arange(squares_x * square_px) // square_px)[None, :]
    pattern = np.where((rows + cols) % 2 == 0, 0, 255).astype(np.uint8)
    image = cv2.copyMakeBorder(pattern, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)
    return image, square_px / dpi * METRES_PER_INCH


def write_board(path: str | os.PathLike[str], board: Checkerboard, paper: str = "A4",
                dpi: int = DEFAULT_DPI) -> PrintedBoard:
    """Write a printable board; the suffix (.pdf or .png) picks the format."""
    target = Path(path)
    suffix = target.suffix.lower()
    if not target.parent.is_dir():
        raise CalibrationError(f"The folder {target.parent} does not exist; create it or choose another --out.")
    if suffix == ".png":
        image, square_m = board_image(board, dpi)
        ok, encoded = cv2.imencode(".png", image)
        if not ok:
            raise CalibrationError("OpenCV could not encode the board as PNG.")
        _write_atomic(target, _with_dpi(encoded.tobytes(), dpi))
    elif suffix == ".pdf":
        _write_atomic(target, board_pdf(board, paper))
        square_m = board.square_m
    else:
        raise CalibrationError(f"Boards are written as .pdf or .png; got '{target.name}'.")
    description = f"{board.columns}x{board.rows} inner corners, {1000 * square_m:.2f} mm squares"
    logger.info("wrote board %s (%s)", target, description)
    return PrintedBoard(target, square_m, description)


def board_pdf(board: Checkerboard, paper: str = "A4") -> bytes:
    """A one-page PDF with the board at true size, centred on the paper, with a caption."""
    if paper not in PAPER_MM:
        raise CalibrationError(f"Unknown paper '{paper}'; choose one of {', '.join(PAPER_MM)}.")
    to_pt = POINTS_PER_INCH / METRES_PER_INCH
    square = board.square_m * to_pt
    board_w = (board.columns + 1) * square
    board_h = (board.rows + 1) * square
    page_w, page_h = (mm / 1000.0 * to_pt for mm in PAPER_MM[paper])
    if board_w > board_h:
        page_w, page_h = max(page_w, page_h), min(page_w, page_h)
    margin = PRINT_MARGIN_MM / 1000.0 * to_pt  # white paper all round: the detector's quiet zone
    caption_top = margin + CAPTION_LINES * CAPTION_LEADING + CAPTION_GAP_MM / 1000.0 * to_pt
    if board_w > page_w - 2 * margin or board_h > page_h - margin - caption_top:
        raise CalibrationError(
            f"A {board.describe()} board is {1000 * board.square_m * (board.columns + 1):.0f}x"
            f"{1000 * board.square_m * (board.rows + 1):.0f} mm and does not fit on {paper} with its margins; "
            "use a smaller --square or --paper A3.")
    left = (page_w - board_w) / 2.0
    bottom = max((page_h - board_h) / 2.0, caption_top)
    commands = ["0 g"]
    for row in range(board.rows + 1):
        for col in range(board.columns + 1):
            if (row + col) % 2 == 0:
                y = bottom + (board.rows - row) * square
                commands.append(f"{left + col * square:.4f} {y:.4f} {square:.4f} {square:.4f} re f")
    lines = (f"mocap calibration board: {board.describe()} ({board.columns + 1}x{board.rows + 1} squares).",
             "Print at 100% / actual size (no fit to page), measure one square and pass it as --square.")
    caption_y = margin + (CAPTION_LINES - 1) * CAPTION_LEADING
    text = " T* ".join(f"({_pdf_text(line)}) Tj" for line in lines)
    commands.append(f"BT /F1 {CAPTION_POINTS:.1f} Tf {CAPTION_LEADING:.1f} TL {margin:.4f} {caption_y:.4f} Td "
                    f"{text} ET")
    content = "\n".join(commands).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w:.4f} {page_h:.4f}] /Contents 4 0 R "
         "/Resources << /Font << /F1 5 0 R >> >> >>").encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _with_dpi(png: bytes, dpi: int) -> bytes:
    """Insert a pHYs chunk (pixels per metre) after IHDR so printers know the intended size."""
    per_metre = int(round(dpi / METRES_PER_INCH))
    data = struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", len(data)) + b"pHYs" + data + struct.pack(">I", zlib.crc32(b"pHYs" + data))
    ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    temporary.write_bytes(data)
    os.replace(temporary, path)
