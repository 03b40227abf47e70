"""The application's look: Qt's Fusion style with a dark palette, matching the dark video and 3D panels.

A dark theme keeps the eye on the video and the avatars (the brightest things on screen) and is
what animation tools use; the same palette on every platform makes screenshots and docs match.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

#: Palette roles -> colour (hex), for the Active/Inactive groups.
DARK_COLOURS: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#2b2d33",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1f2126",
    QPalette.ColorRole.AlternateBase: "#2b2d33",
    QPalette.ColorRole.ToolTipBase: "#3a3d45",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#363941",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#56b4e9",
    QPalette.ColorRole.Highlight: "#3d7ab8",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#8a8d96",
}
#: Text of disabled widgets.
DISABLED_TEXT = "#7b7e87"
#: Background of the pyqtgraph plots (a shade darker than the window).
PLOT_BACKGROUND = "#1b1c20"
PLOT_FOREGROUND = "#b8bac2"


def dark_palette() -> QPalette:
    """The dark palette (disabled widgets dimmed)."""
    palette = QPalette()
    for role, colour in DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion style, the dark palette, and matching pyqtgraph defaults (call before building widgets)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    pg.setConfigOptions(background=PLOT_BACKGROUND, foreground=PLOT_FOREGROUND)
