"""The install logic for GPUs: ONNX Runtime comes from exactly one extra, and setup.sh picks one."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def requirements(text: str) -> list[str]:
    """Distribution names of a setup.cfg requirement list (lower case, no versions or markers)."""
    names = []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower())
    return names


def test_onnxruntime_comes_from_exactly_one_extra():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    base = requirements(config["options"]["install_requires"])
    extras = {name: requirements(value) for name, value in config["options.extras_require"].items()}
    assert not {"onnxruntime", "onnxruntime-gpu"} & set(base)  # pip could never remove a base dependency
    assert "onnxruntime" in extras["cpu"] and "onnxruntime-gpu" not in extras["cpu"]
    assert "onnxruntime-gpu" in extras["gpu"] and "onnxruntime" not in extras["gpu"]
    assert {"tensorrt", "cuda-python"} <= set(extras["gpu"])
    for name, packages in extras.items():
        if name not in ("cpu", "gpu"):
            assert not {"onnxruntime", "onnxruntime-gpu"} & set(packages), name
    assert re.search(r"tensorrt>=10[.0-9]*,<11", config["options.extras_require"]["gpu"])


def test_setup_script_installs_one_runtime_and_removes_the_other():
    script = (REPO / "scripts" / "setup.sh").read_text()
    choice = re.search(r'if \[ "\$\{MOCAP_GPU:-0\}" = "1" \]; then (.*); fi', script).group(1)
    gpu_branch, cpu_branch = choice.split("; else ")
    assert "RUNTIME=gpu" in gpu_branch and "OTHER=onnxruntime;" in gpu_branch + ";"
    assert "RUNTIME=cpu" in cpu_branch and "OTHER=onnxruntime-gpu" in cpu_branch
    uninstall, install = script.index('uninstall -q -y "$OTHER"'), script.index('install -q -e ".[$RUNTIME,')
    assert uninstall < install
