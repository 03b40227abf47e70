"""``mocap-app``: the desktop application's launcher."""

from __future__ import annotations

import argparse
import sys

from mocap_app import __version__

WINDOW_TITLE = "mocap"
DEFAULT_SIZE = (1280, 800)


def main(argv: list[str] | None = None) -> int:
    """Open the main window and run the Qt event loop; returns the exit status."""
    parser = argparse.ArgumentParser(prog="mocap-app", description="The motion-capture desktop application.")
    parser.add_argument("--version", action="version", version=f"mocap-app {__version__}")
    parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.resize(*DEFAULT_SIZE)
    window.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
