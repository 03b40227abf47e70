"""The main window. Live capture, the 3D view and recording join it in the desktop-application issue."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow

from mocap_app import __version__

from .app import WINDOW_TITLE


class MainWindow(QMainWindow):
    """Top-level window: menus, panels and the status bar."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"{WINDOW_TITLE} {__version__}")

        # Panels
        placeholder = QLabel("No source open.\nUse the command line ('mocap --help') until live capture lands here.")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(placeholder)

        # Status bar
        self.statusBar().showMessage("Ready")
