"""The live video panel (frames with their 2D skeletons already drawn) and the timeline of file sources.

The worker thread scales each frame to this panel's size, draws the overlay and converts it to a
``QImage`` (:mod:`ui.frame_view`); the panel keeps the newest one and blits it at the next repaint
(Qt merges repaint requests, so frames arriving faster than the screen are dropped here). The
panel tells the worker its size through ``display_size_changed``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

from .frame_view import bgr_to_qimage

BACKGROUND = QColor(20, 21, 25)
PLACEHOLDER_COLOUR = QColor(150, 150, 160)
MINIMUM_SIZE = QSize(320, 180)
DEFAULT_PLACEHOLDER = "No source open: choose a camera or a video file above, then press Start."


class VideoPanel(QWidget):
    """Shows the newest frame centred (letterboxed, aspect kept), or a hint when there is none.

    Signals:
        display_size_changed(QSize): the panel's size in device pixels (what frames should be scaled to).
    """

    display_size_changed = Signal(QSize)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(MINIMUM_SIZE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills every pixel
        self._image: QImage | None = None
        self._placeholder = DEFAULT_PLACEHOLDER

    def set_frame(self, image: QImage | np.ndarray) -> None:
        """Show a frame: a QImage made for this panel, or a (H, W, 3) uint8 BGR array (converted here)."""
        self._image = image if isinstance(image, QImage) else bgr_to_qimage(image)
        self.update()

    def clear(self, message: str | None = None) -> None:
        """Drop the current image and show ``message`` (or the default hint) instead."""
        self._image = None
        if message is not None:
            self._placeholder = message
        self.update()

    def current_image(self) -> QImage | None:
        """The frame painted now (tests and screenshots read it)."""
        return self._image

    def display_size(self) -> QSize:
        """The panel's size in device pixels."""
        return self.size() * self.devicePixelRatioF()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.display_size_changed.emit(self.display_size())

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            painter.setPen(PLACEHOLDER_COLOUR)
            painter.drawText(self.rect().adjusted(20, 20, -20, -20),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        ratio = self.devicePixelRatioF()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        origin = QPoint((self.width() - size.width()) // 2, (self.height() - size.height()) // 2)
        if self._image.size() == size * ratio:  # made for this panel: a plain blit
            self._image.setDevicePixelRatio(ratio)
            painter.drawImage(origin, self._image)
        else:  # the panel was resized since the frame was made: scale (until the next frame)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRect(origin, size), self._image)


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
