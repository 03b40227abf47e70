"""User settings: one frozen dataclass, persisted with ``QSettings``, edited in a dialog.

The advanced part (1-Euro filter strengths, fitting weights) is built from the pipeline's own
dataclasses (:class:`~mocap_app.tracking.one_euro.OneEuroParams`,
:class:`~mocap_app.fitting.residuals.FitWeights`) field by field, so a new weight in the fitter
appears here without a GUI change, and every value is validated by the dataclass itself.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engines.engine import PROVIDERS
from mocap_app.backends import BACKENDS, DEFAULT_BACKEND
from mocap_app.bvh import EULER_ORDERS
from mocap_app.conventions import DEFAULT_EULER_ORDER
from mocap_app.fitting.residuals import FitWeights
from mocap_app.pipeline.runner import PipelineConfig
from mocap_app.tracking.one_euro import FILTER_2D, FILTER_3D, FILTER_FINAL, OneEuroParams

logger = logging.getLogger(__name__)

#: QSettings organisation and application names.
ORGANISATION = "mocap"
APPLICATION = "mocap-app"
MAX_PEOPLE_LIMIT = 8
#: Range and decimals of the spin boxes generated for float fields.
FLOAT_RANGE = (0.0, 1e4)
FLOAT_DECIMALS = 4


def default_takes_dir() -> str:
    """Where takes are journaled unless the user picks another folder."""
    return str(Path(platformdirs.user_data_dir("mocap")) / "takes")


@dataclass(frozen=True)
class AppSettings:
    """Everything the window remembers between runs.

    Attributes:
        engine: Stage I engine (a key of ``mocap_app.backends.BACKENDS``).
        device: inference device (``"cpu"``, ``"cuda"``).
        max_people: most performers tracked at once.
        calibration_path: camera calibration file, ``""`` for none (assumed field of view).
        takes_dir: folder takes are journaled into.
        euler_order: default BVH rotation order of exports.
        export_scale: default BVH length scale of exports (1 = centimetres).
        draw_overlay: draw the 2D skeletons onto the video.
        last_source: the last camera index or file opened.
        filter_2d / filter_3d / filter_final: 1-Euro filter strengths.
        fit_weights: Stage III energy weights.
    """

    engine: str = DEFAULT_BACKEND
    device: str = "cpu"
    max_people: int = 2
    calibration_path: str = ""
    takes_dir: str = field(default_factory=default_takes_dir)
    euler_order: str = DEFAULT_EULER_ORDER
    export_scale: float = 1.0
    draw_overlay: bool = True
    last_source: str = ""
    filter_2d: OneEuroParams = FILTER_2D
    filter_3d: OneEuroParams = FILTER_3D
    filter_final: OneEuroParams = FILTER_FINAL
    fit_weights: FitWeights = field(default_factory=FitWeights)

    def pipeline_config(self, calibration: Any = None) -> PipelineConfig:
        """The pipeline's configuration from these settings and a loaded calibration (or ``None``)."""
        return PipelineConfig(engine=self.engine, device=self.device, max_people=self.max_people,
                              calibration=calibration, filter_2d=self.filter_2d, filter_3d=self.filter_3d,
                              filter_final=self.filter_final, fit_weights=self.fit_weights)


def _convert(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
    return type(default)(value)


def _load_into(store: QSettings, prefix: str, default: Any) -> Any:
    """Read a (nested) dataclass field by field; a missing or invalid value keeps its default."""
    values = {}
    for item in dataclasses.fields(default):
        current = getattr(default, item.name)
        key = f"{prefix}{item.name}"
        if dataclasses.is_dataclass(current):
            values[item.name] = _load_into(store, key + "/", current)
        elif store.contains(key):
            try:
                values[item.name] = _convert(store.value(key), current)
            except (TypeError, ValueError):
                logger.warning("setting %s=%r is not valid; using %r", key, store.value(key), current)
    try:
        return dataclasses.replace(default, **values)
    except (TypeError, ValueError) as exc:
        logger.warning("settings under %r are not valid (%s); using the defaults", prefix or "/", exc)
        return default


def _store_from(store: QSettings, prefix: str, value: Any) -> None:
    for item in dataclasses.fields(value):
        current = getattr(value, item.name)
        if dataclasses.is_dataclass(current):
            _store_from(store, f"{prefix}{item.name}/", current)
        else:
            store.setValue(f"{prefix}{item.name}", current)


def load_settings(store: QSettings) -> AppSettings:
    """The saved settings (defaults for anything missing or invalid)."""
    settings = _load_into(store, "", AppSettings())
    if settings.engine not in BACKENDS:
        settings = dataclasses.replace(settings, engine=DEFAULT_BACKEND)
    if settings.euler_order not in EULER_ORDERS:
        settings = dataclasses.replace(settings, euler_order=DEFAULT_EULER_ORDER)
    return settings


def save_settings(store: QSettings, settings: AppSettings) -> None:
    """Write every field (nested dataclasses as groups) and flush to disk."""
    _store_from(store, "", settings)
    store.sync()


class DataclassForm(QWidget):
    """Spin boxes for the numeric fields of a frozen dataclass; ``value()`` builds a validated copy."""

    def __init__(self, value: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = value
        self._editors: dict[str, QDoubleSpinBox | QSpinBox] = {}
        layout = QFormLayout(self)
        for item in dataclasses.fields(value):
            current = getattr(value, item.name)
            if isinstance(current, bool) or not isinstance(current, (int, float)):
                continue
            editor: QDoubleSpinBox | QSpinBox
            if isinstance(current, int):
                editor = QSpinBox()
                editor.setRange(0, 10_000)
            else:
                editor = QDoubleSpinBox()
                editor.setRange(*FLOAT_RANGE)
                editor.setDecimals(FLOAT_DECIMALS)
            editor.setValue(current)
            self._editors[item.name] = editor
            layout.addRow(item.name.replace("_", " "), editor)

    def set_value(self, value: Any) -> None:
        for name, editor in self._editors.items():
            editor.setValue(getattr(value, name))
        self._value = value

    def value(self) -> Any:
        """A copy of the dataclass with the edited numbers (``ValueError`` from its own validation)."""
        return dataclasses.replace(self._value, **{name: type(getattr(self._value, name))(editor.value())
                                                   for name, editor in self._editors.items()})


class SettingsDialog(QDialog):
    """Engine, performers, device, calibration file, takes folder, and an "Advanced" tab set."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings

        # Basic
        self.engine = QComboBox()
        self.engine.addItems(sorted(BACKENDS))
        self.engine.setCurrentText(settings.engine)
        self.device = QComboBox()
        self.device.addItems(sorted({device for _, device in PROVIDERS}))
        self.device.setCurrentText(settings.device)
        self.max_people = QSpinBox()
        self.max_people.setRange(1, MAX_PEOPLE_LIMIT)
        self.max_people.setValue(settings.max_people)
        self.calibration = QLineEdit(settings.calibration_path)
        self.calibration.setPlaceholderText("none: a 54 degree field of view is assumed")
        self.takes_dir = QLineEdit(settings.takes_dir)
        self.draw_overlay = QCheckBox("Draw 2D skeletons on the video")
        self.draw_overlay.setChecked(settings.draw_overlay)
        basic = QFormLayout()
        basic.addRow("Engine", self.engine)
        basic.addRow("Device", self.device)
        basic.addRow("Performers", self.max_people)
        basic.addRow("Calibration", self._with_browse(self.calibration, self._browse_calibration))
        basic.addRow("Takes folder", self._with_browse(self.takes_dir, self._browse_takes))
        basic.addRow("", self.draw_overlay)

        # Advanced
        self.filter_forms = {name: DataclassForm(getattr(settings, name))
                             for name in ("filter_2d", "filter_3d", "filter_final")}
        self.fit_form = DataclassForm(settings.fit_weights)
        tabs = QTabWidget()
        for name, form in self.filter_forms.items():
            tabs.addTab(form, name.replace("filter_", "1-Euro ").replace("final", "pose"))
        tabs.addTab(self.fit_form, "Fitting weights")
        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        advanced_layout = QVBoxLayout(self.advanced)
        advanced_layout.addWidget(tabs)
        tabs.setVisible(False)
        self.advanced.toggled.connect(tabs.setVisible)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        layout = QVBoxLayout(self)
        layout.addLayout(basic)
        layout.addWidget(self.advanced)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self._restore_defaults)

    @staticmethod
    def _with_browse(edit: QLineEdit, handler: Any) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        button = QPushButton("Browse...")
        layout.addWidget(edit, 1)
        layout.addWidget(button)
        button.clicked.connect(handler)
        return row

    def _browse_calibration(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Calibration file", self.calibration.text(),
                                              "Calibration (*.json *.yaml *.yml *.xml)")
        if path:
            self.calibration.setText(path)

    def _browse_takes(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Takes folder", self.takes_dir.text())
        if path:
            self.takes_dir.setText(path)

    def _restore_defaults(self) -> None:
        defaults = AppSettings()
        for name, form in self.filter_forms.items():
            form.set_value(getattr(defaults, name))
        self.fit_form.set_value(defaults.fit_weights)
        self.engine.setCurrentText(defaults.engine)
        self.device.setCurrentText(defaults.device)
        self.max_people.setValue(defaults.max_people)

    def settings(self) -> AppSettings:
        """The edited settings (``ValueError`` naming the field when a value is out of range)."""
        return dataclasses.replace(
            self._settings, engine=self.engine.currentText(), device=self.device.currentText(),
            max_people=self.max_people.value(), calibration_path=self.calibration.text().strip(),
            takes_dir=self.takes_dir.text().strip() or default_takes_dir(),
            draw_overlay=self.draw_overlay.isChecked(), fit_weights=self.fit_form.value(),
            **{name: form.value() for name, form in self.filter_forms.items()})
