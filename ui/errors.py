"""Problems shown in the window, with their fix: an error banner and a log handler feeding the status bar.

Every user-fixable problem (:class:`~mocap_app.errors.MocapError`: camera lost, video that does not
decode, models not fetched, calibration that does not load) arrives here as its one-line message,
which already names the fix; the window never relies on a terminal the user may not see.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from mocap_app.errors import CalibrationError, MocapError, SourceError, WeightsMissingError

#: Banner colours per severity: (background, border).
SEVERITY_STYLES = {
    "error": ("#5c1f1f", "#d9534f"),
    "warning": ("#5a4a1a", "#f0ad4e"),
    "info": ("#1f3d5c", "#5bc0de"),
}
#: Title shown in bold before the message, by exception type (most specific first).
TITLES: tuple[tuple[type[BaseException], str], ...] = (
    (WeightsMissingError, "Models missing"),
    (SourceError, "Source problem"),
    (CalibrationError, "Calibration problem"),
    (MocapError, "Problem"),
    (FileNotFoundError, "File not found"),
    (OSError, "File or device problem"),
)


def describe(exc: BaseException) -> tuple[str, str]:
    """(title, message) of an exception for the banner: user errors show their own message alone."""
    for kind, title in TITLES:
        if isinstance(exc, kind):
            return title, str(exc)
    return "Unexpected error", f"{type(exc).__name__}: {exc}. This is a bug; please report it with the log."


class ErrorBanner(QFrame):
    """A dismissable strip at the top of the window; hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QLabel()
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Dismiss")
        close.setFlat(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self._title)
        layout.addWidget(self._message, 1)
        layout.addWidget(close)
        close.clicked.connect(self.hide)
        self.severity = "info"
        self.hide()

    def show_message(self, title: str, message: str, severity: str = "error") -> None:
        """Show ``message`` under ``title``; ``severity`` is ``"error"``, ``"warning"`` or ``"info"``."""
        background, border = SEVERITY_STYLES[severity]
        self.severity = severity
        self.setStyleSheet(f"ErrorBanner {{ background: {background}; border: 1px solid {border}; "
                           f"border-radius: 4px; }} QLabel {{ color: #f2f2f2; }}")
        self._title.setText(f"<b>{title}</b>")
        self._message.setText(message)
        self.show()

    def show_exception(self, exc: BaseException) -> None:
        """Show an exception the way the CLI would print it: the message alone, no traceback."""
        self.show_message(*describe(exc))

    def text(self) -> str:
        """The message shown now ('' when hidden)."""
        return self._message.text() if self.isVisible() else ""

    def title(self) -> str:
        """The title shown now ('' when hidden)."""
        return self._title.text().removeprefix("<b>").removesuffix("</b>") if self.isVisible() else ""


class _LogSignals(QObject):
    record_logged = Signal(int, str)


class QtLogBridge(logging.Handler):
    """Forwards log records (from any thread) to the GUI thread as ``signals.record_logged(level, text)``."""

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.signals = _LogSignals()
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.signals.record_logged.emit(record.levelno, self.format(record))
        except RuntimeError:  # the QObject is already deleted at interpreter shutdown
            pass
