"""How a network runs fast: ONNX Runtime (CPU, CUDA) and TensorRT behind one ``Engine`` interface.

Never imports torch or Qt. Optional runtimes (TensorRT, the CUDA provider) are imported inside the
code that needs them, so ``import engines`` works on a CPU-only laptop.
"""
