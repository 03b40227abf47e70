"""The live video panel (frames with their 2D skeletons already drawn) and the timeline of file sources.

The worker thread draws the overlay (:func:`mocap_app.overlay.draw_observations`) and hands over
its own copy of the image; this panel only keeps the newest one and paints it letterboxed at
display rate, so a slow screen never slows the pipeline down.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

#: Repaint interval, milliseconds (about 60 Hz).
REFRESH_MS = 16
BACKGROUND = QColor(20, 21, 25)
PLACEHOLDER_COLOUR = QColor(150, 150, 160)
MINIMUM_SIZE = QSize(320, 180)


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of a (H, W, 3) uint8 BGR image."""
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class VideoPanel(QWidget):
    """Shows the newest frame, scaled to fit with its aspect ratio kept, or a hint when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(MINIMUM_SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._pending: np.ndarray | None = None
        self._image: QImage | None = None
        self._placeholder = "No source open: choose a camera or a video file above, then press Start."
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh)
        self._timer.start(REFRESH_MS)

    def set_frame(self, image: np.ndarray) -> None:
        """Keep the newest (H, W, 3) uint8 BGR frame; it is painted at the next display refresh."""
        self._pending = image

    def clear(self, message: str | None = None) -> None:
        """Drop the current image and show ``message`` (or the default hint) instead."""
        self._pending = None
        self._image = None
        if message is not None:
            self._placeholder = message
        self.update()

    def current_image(self) -> QImage | None:
        """The frame painted now (tests and screenshots read it)."""
        return self._image

    def _refresh(self) -> None:
        if self._pending is not None:
            self._image, self._pending = bgr_to_qimage(self._pending), None
            self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            painter.setPen(PLACEHOLDER_COLOUR)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                       size.width(), size.height())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)


class Timeline(QWidget):
    """Position in a video file, and where the user wants to jump to.

    Signals:
        seek_requested(int): frame index the user released the slider at.
    """

    seek_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._label = QLabel("--:-- / --:--")
        self._fps = 0.0
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._slider, 1)
        layout.addWidget(self._label)
        self._slider.sliderReleased.connect(lambda: self.seek_requested.emit(self._slider.value()))
        self.set_length(None, 0.0)

    def set_length(self, frame_count: int | None, fps: float) -> None:
        """A file of ``frame_count`` frames at ``fps``; ``None`` (cameras) disables the timeline."""
        self._fps = fps
        self._slider.setEnabled(bool(frame_count))
        self._slider.setRange(0, max(0, (frame_count or 1) - 1))
        self._slider.setValue(0)
        self._update_label(0)

    def set_position(self, frame_index: int) -> None:
        """Move the handle to ``frame_index`` unless the user is dragging it."""
        if not self._slider.isSliderDown():
            self._slider.setValue(frame_index)
        self._update_label(frame_index)

    def _update_label(self, frame_index: int) -> None:
        if not self._slider.isEnabled() or self._fps <= 0:
            self._label.setText("live" if self._fps > 0 else "--:-- / --:--")
            return
        total = (self._slider.maximum() + 1) / self._fps
        self._label.setText(f"{_clock(frame_index / self._fps)} / {_clock(total)}")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{rest:05.2f}"
