#!/usr/bin/env bash
# Installs everything the application and its tests need on Debian/Ubuntu with Python 3.10+:
# the system packages (Qt's X11 libraries, Mesa for the 3D view, Xvfb for headless tests, ffmpeg,
# Blender for the BVH import test) and the Python environment in .venv (the project in editable
# mode with its dev and train extras). Safe to run again. Needs root or sudo for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    xvfb xauth libgl1 libgl1-mesa-dri libegl1 libglx-mesa0 libxkbcommon-x11-0 libxcb-cursor0
    libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
    libxcb-randr0 libxcb-xkb1 libdbus-1-3 libfontconfig1 ffmpeg blender libegl-mesa0
)

if command -v apt-get >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
else
    echo "setup: apt-get not found; install these system packages yourself: ${APT_PACKAGES[*]}" >&2
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "setup: Python 3.10 or newer is needed (found $("$PYTHON" --version)); set PYTHON=python3.X" >&2; exit 1; }
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned in the 'train' extra (an unpinned torch pulls several GB of CUDA wheels).
# ONNX Runtime comes from exactly one extra: 'cpu' (onnxruntime) or, with MOCAP_GPU=1, 'gpu'
# (onnxruntime-gpu, TensorRT, cuda-python). Both packages provide the same module, so the other is removed first.
if [ "${MOCAP_GPU:-0}" = "1" ]; then RUNTIME=gpu; OTHER=onnxruntime; else RUNTIME=cpu; OTHER=onnxruntime-gpu; fi
.venv/bin/python -m pip uninstall -q -y "$OTHER" >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[$RUNTIME,dev,train]"
echo "setup: done. Activate with 'source .venv/bin/activate', then run 'mocap --help'."
